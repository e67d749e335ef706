import type { Context, Middleware, Next } from 'koa';
import { readFormBody } from '../http/form-body.ts';
import { handOverParsedBody } from '../oidc-provider/oidc-provider-quirks.ts';
import { respondWithPage } from './context.ts';
import { html } from './html.ts';
import { PAGE_FORM_LIMIT } from './page-form.ts';

/** oidc-provider's own page forms: the device code form and the sign-out confirmation. */
const PROVIDER_PAGE_FORMS: ReadonlySet<string> = new Set(['/device', '/session/end/confirm']);

/**
 * Holds oidc-provider's page forms to the limit of Gatehouse's own pages: a body over
 * {@link PAGE_FORM_LIMIT} gets the 413 page (with the pages' headers and a request-log line,
 * like any other answer), not the provider's parse of a form no browser would send. Smaller
 * bodies are handed to the provider parsed.
 *
 * @example
 * app.use(providerFormLimit());
 * app.use(providerHost.middleware);
 */
export function providerFormLimit(): Middleware {
  // Not async: other requests pass straight on, without a promise of their own.
  return function limitProviderPageForms(ctx, next) {
    if (
      ctx.method !== 'POST' ||
      !PROVIDER_PAGE_FORMS.has(ctx.path) ||
      !ctx.is('application/x-www-form-urlencoded')
    ) {
      return next();
    }
    return limitPageForm(ctx, next);
  };
}

/** Reads one provider page form: the 413 page when too large, else the provider reads it. */
async function limitPageForm(ctx: Context, next: Next): Promise<void> {
  const read = await readFormBody(ctx, PAGE_FORM_LIMIT);
  if (read.kind === 'too_large') {
    respondWithPage(ctx, 413, {
      title: 'This request cannot be completed',
      error: 'This form is too large. Go back and try again.',
      body: html``,
    });
    return;
  }
  handOverParsedBody(ctx, read.text);
  await next();
}
