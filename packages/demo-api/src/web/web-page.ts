import type { Context, Middleware, Next } from 'koa';
import { bundleWebPage, type WebBundle } from './bundle.ts';
import { demoPageHtml, type PageSettings } from './page-html.ts';

/** The demo page's routes plus a way to build its bundle ahead of the first request. */
export interface WebPage {
  readonly routes: Middleware;
  /** Builds the bundle now (at start), so a broken build fails the start, not the first visit. */
  prepare(): Promise<void>;
}

/**
 * The Content-Security-Policy of the page: its own script and style only; it talks to the issuer
 * (discovery, token, revocation) and to the API, nothing else.
 */
export function demoPageCsp(settings: Pick<PageSettings, 'issuer' | 'apiUrl'>): string {
  const origin = (url: string) => new URL(url).origin;
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${origin(settings.issuer)} ${origin(settings.apiUrl)}`,
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Serves the demo page at `/` (and `/callback`, where the server sends the browser back with the
 * code), its script at `/assets/demo.js` and its stylesheet at `/assets/styles.css`.
 *
 * @example
 * ```ts
 * const web = demoWebPage({ issuer, apiUrl, clientId: 'demo-spa' });
 * app.use(web.routes);
 * await web.prepare();
 * ```
 */
export function demoWebPage(settings: PageSettings): WebPage {
  const html = demoPageHtml(settings);
  const csp = demoPageCsp(settings);
  let bundle: Promise<WebBundle> | undefined;
  const built = () => {
    bundle ??= bundleWebPage().catch((error: unknown) => {
      bundle = undefined; // a failed build is tried again on the next request
      throw error;
    });
    return bundle;
  };

  async function serveWebPage(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    switch (ctx.path) {
      case '/':
      case '/callback':
        ctx.set('Content-Security-Policy', csp);
        ctx.set('X-Frame-Options', 'DENY');
        // The callback URL carries the authorization code: never send it onwards in a Referer.
        ctx.set('Referrer-Policy', 'no-referrer');
        ctx.type = 'html';
        ctx.body = html;
        return;
      case '/assets/demo.js':
        ctx.type = 'text/javascript';
        ctx.body = (await built()).script;
        return;
      case '/assets/styles.css':
        ctx.type = 'text/css';
        ctx.body = (await built()).stylesheet;
        return;
      default:
        return next();
    }
  }

  return {
    routes: serveWebPage,
    async prepare() {
      await built();
    },
  };
}
