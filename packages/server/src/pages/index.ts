import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import compose from 'koa-compose';
import { PROVIDER_PATH_TEMPLATES } from '../oidc-provider/provider-routes.ts';
import { createCsrfProtection } from '../security/csrf.ts';
import { createLoginThrottle } from '../security/login-throttle.ts';
import { StoreUnavailableError } from '../store/errors.ts';
import { consentRoutes, showConsent } from './consent.ts';
import { consoleLog, type InteractionDeps, type PageContext, respondWithPage } from './context.ts';
import { FAVICON_CACHE_CONTROL, FAVICON_PATH, FAVICON_SVG } from './favicon.ts';
import { html } from './html.ts';
import { loadInteraction } from './interaction.ts';
import { readInteractionPageAhead, readResumeAhead } from './interaction-read-ahead.ts';
import { STYLESHEET_PATH } from './layout.ts';
import { loginRoutes, showLogin } from './login.ts';
import { passwordResetRoutes } from './password-reset.ts';
import { registerRoutes } from './register.ts';
import { STYLESHEET } from './stylesheet.ts';
import { verifyEmailRoutes } from './verify-email.ts';

export type { InteractionDeps, PageLog } from './context.ts';
export { createInteractionPolicy } from './interaction-policy.ts';
export { INVALID_CREDENTIALS_MESSAGE } from './login.ts';
export { createProviderPages, type ProviderPages, type ProviderPagesDeps } from './provider-pages.ts';
export { createRememberedConsent, type RememberedConsent } from './remembered-consent.ts';

/** Unexpected failures become a plain page; the detail goes to the log only. */
function renderUnexpectedErrors(deps: PageContext): Middleware {
  return async function renderPageErrors(ctx: Context, next) {
    try {
      await next();
    } catch (err) {
      if (err instanceof StoreUnavailableError) {
        // The app's error middleware adds Retry-After to this 503, as to every other.
        respondWithPage(ctx, 503, {
          title: 'Please try again',
          error: 'The service is busy for a moment. Nothing was changed; try again in a few seconds.',
          body: html``,
        });
        return;
      }
      const status = (err as { status?: unknown }).status;
      const expose = (err as { expose?: unknown }).expose === true;
      if (typeof status === 'number' && status >= 400 && status < 500 && expose) {
        respondWithPage(ctx, status, {
          title: 'This request cannot be completed',
          error: 'Go back and try again.',
          body: html``,
        });
        return;
      }
      deps.log.error({ err: err instanceof Error ? err.stack : String(err), path: ctx.path }, 'page failed');
      respondWithPage(ctx, 500, {
        title: 'Something went wrong',
        error: 'Something went wrong on our side. Try again in a moment.',
        body: html``,
      });
    }
  };
}

/** GET /interaction/:uid: the page for whatever oidc-provider's prompt asks. */
async function showInteraction(ctx: Context, deps: PageContext): Promise<void> {
  const readAhead = deps.readAhead;
  if (!readAhead) return showInteractionPage(ctx, deps);
  await readAhead.run((reads) => {
    readInteractionPageAhead(ctx, { ...deps, readAhead }, reads);
    return showInteractionPage(ctx, deps);
  });
}

async function showInteractionPage(ctx: Context, deps: PageContext): Promise<void> {
  const details = await loadInteraction(ctx, deps);
  if (!details) return;
  switch (details.prompt.name) {
    case 'login':
      return await showLogin(ctx, deps, details);
    case 'consent':
      return await showConsent(ctx, deps, details);
    default:
      respondWithPage(ctx, 501, {
        title: 'This request cannot be completed',
        error: 'This sign-in step is not supported.',
        body: html``,
      });
  }
}

/**
 * The server-rendered pages: sign-in and consent for oidc-provider interactions, sign-up,
 * email confirmation, password reset, and the stylesheet. Every form gets a CSRF token; the
 * security headers come from the app around these routes (`security/security-headers.ts`).
 *
 * Routes: `GET /interaction/:uid`, `POST /interaction/:uid/{login,confirm,abort}`,
 * `GET|POST /register`, `GET|POST /verify-email`, `GET|POST /verify-email/resend`, `GET|POST /forgot-password`,
 * `GET|POST /reset-password`, `GET /assets/gatehouse.css`, `GET /favicon.ico` and `GET /assets/gatehouse.svg`.
 *
 * @example
 * app.use(createPageRoutes({ provider: () => provider, accounts, config, mailer, limiter }));
 * app.use(mount(provider));
 */
export function createPageRoutes(deps: InteractionDeps): Middleware {
  const context: PageContext = {
    ...deps,
    csrf: createCsrfProtection(deps.config.secret),
    throttle: createLoginThrottle(deps.limiter),
    log: deps.log ?? consoleLog,
  };
  const router = new Router();
  router.use(renderUnexpectedErrors(context));
  router.get(STYLESHEET_PATH, function serveStylesheet(ctx) {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = STYLESHEET;
  });
  router.get(['/favicon.ico', FAVICON_PATH], function serveFavicon(ctx) {
    ctx.type = 'image/svg+xml';
    ctx.set('Cache-Control', FAVICON_CACHE_CONTROL);
    ctx.body = FAVICON_SVG;
  });
  router.get('/interaction/:uid', function getInteraction(ctx) {
    return showInteraction(ctx, context);
  });
  loginRoutes(router, context);
  consentRoutes(router, context);
  registerRoutes(router, context);
  verifyEmailRoutes(router, context);
  passwordResetRoutes(router, context);
  // @koa/router types its middleware with its own context extension; Koa's is the same object.
  const pages = compose([router.routes() as Middleware, router.allowedMethods() as Middleware]);
  // The protocol endpoints' own paths (`/token`, `/introspect`: nearly every API request) skip
  // the router's matching; which paths no page route matches is asked of the router itself.
  const notPages = new Set(
    PROVIDER_PATH_TEMPLATES.filter(
      (path) =>
        !path.includes('/:') && !router.match(path, 'GET').path.some((layer) => layer.methods.length > 0),
    ),
  );
  const readAhead = deps.readAhead;
  if (!readAhead) {
    return function pageRoutes(ctx, next) {
      return notPages.has(ctx.path) ? next() : pages(ctx, next);
    };
  }
  const readAheadDeps = { ...deps, readAhead };
  return function pageRoutes(ctx, next) {
    if (notPages.has(ctx.path)) return next();
    // The resume is the provider's, not a page: its reads are made here, the rest is the provider's.
    return readResumeAhead(ctx, readAheadDeps, () => pages(ctx, next));
  };
}
