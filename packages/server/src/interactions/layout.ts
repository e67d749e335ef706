import { FAVICON_PATH } from './favicon.ts';
import { html, type SafeHtml } from './html.ts';

export const STYLESHEET_PATH = '/assets/gatehouse.css';

export interface PageOptions {
  readonly title: string;
  readonly body: SafeHtml;
  /** Shown above the form, announced by screen readers (`role="alert"`). */
  readonly error?: string | undefined;
  /** A confirmation, announced politely (`role="status"`). */
  readonly notice?: string | undefined;
}

/** An error or notice box; `role="alert"` makes screen readers read it when the page loads. */
export function messageBox(options: Pick<PageOptions, 'error' | 'notice'>): SafeHtml {
  return html`${options.error ? html`<p class="message message-error" role="alert">${options.error}</p>` : ''}${
    options.notice ? html`<p class="message message-notice" role="status">${options.notice}</p>` : ''
  }`;
}

/** The document around every Gatehouse page: one stylesheet, no scripts, no inline styles. */
export function page(options: PageOptions): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title} · Gatehouse</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
<link rel="icon" href="${FAVICON_PATH}" type="image/svg+xml">
</head>
<body>
<main class="card">
<p class="brand" aria-hidden="true">Gatehouse</p>
<h1>${options.title}</h1>
${messageBox(options)}
${options.body}
</main>
</body>
</html>
`.value;
}
