import { FAVICON_PATH } from './favicon.ts';
import { html, SafeHtml } from './html.ts';

export const STYLESHEET_PATH = '/assets/gatehouse.css';

export interface PageOptions {
  readonly title: string;
  readonly body: SafeHtml;
  /** Shown above the form, announced by screen readers (`role="alert"`). */
  readonly error?: string | undefined;
  /** A confirmation, announced politely (`role="status"`). */
  readonly notice?: string | undefined;
  /**
   * One inline script, run at the end of the body; the response's CSP must allow exactly this text
   * (`allowInlineScript`). Pages work without it: it only saves a click.
   */
  readonly script?: string | undefined;
}

/** An error or notice box; `role="alert"` makes screen readers read it when the page loads. */
export function messageBox(options: Pick<PageOptions, 'error' | 'notice'>): SafeHtml {
  return html`${options.error ? html`<p class="message message-error" role="alert">${options.error}</p>` : ''}${
    options.notice ? html`<p class="message message-notice" role="status">${options.notice}</p>` : ''
  }`;
}

/**
 * The document around every Gatehouse page: one stylesheet, no inline styles, and no script
 * but the one a page may name in `script` (allowed by its hash).
 */
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
${options.script ? new SafeHtml(`<script>${options.script}</script>`) : ''}
</body>
</html>
`.value;
}
