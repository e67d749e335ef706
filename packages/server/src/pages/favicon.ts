/** Where the pages' `<link rel="icon">` points; `/favicon.ico` serves the same icon. */
export const FAVICON_PATH = '/assets/gatehouse.svg';

/**
 * The site icon: a small SVG kept in code, so the pages need no file on disk and browsers
 * asking for `/favicon.ico` on their own get an icon instead of a 404 in the console.
 * Browsers sniff the image type of an icon, so the SVG answers at the `.ico` path as well.
 */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2f5bd3"/><path d="M9 27V13l7-6 7 6v14h-5v-7h-4v7z" fill="#fff"/></svg>`;

/** An icon changes with a release at most: let browsers keep it for a week. */
export const FAVICON_CACHE_CONTROL = 'public, max-age=604800';
