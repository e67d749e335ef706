import type Router from '@koa/router';
import type { Context } from 'koa';
import { type PageContext, respondCsrfFailure, respondWithPage } from './context.ts';
import { CSRF_FIELD } from './csrf.ts';
import { readForm } from './form-body.ts';
import { html } from './html.ts';

const PURPOSE = 'verify-email';

function respondLinkInvalid(ctx: Context): void {
  respondWithPage(ctx, 400, {
    title: 'This link has expired',
    error: 'The confirmation link is no longer valid: it was already used, or it is older than 24 hours.',
    body: html`<p class="lead">If your address is not confirmed yet, sign in and ask for a new link, or contact your administrator.</p>`,
  });
}

/**
 * GET /verify-email?token=… only shows a button: mail scanners fetch links, and a single-use
 * token must be used by the person, not by the scanner. The POST uses it up.
 */
async function showVerify(ctx: Context, deps: PageContext): Promise<void> {
  const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
  const account = token ? await deps.accounts.peekEmailToken('verify-email', token) : undefined;
  if (!account) return respondLinkInvalid(ctx);
  respondWithPage(ctx, 200, {
    title: 'Confirm your email address',
    body: html`<p class="lead">Confirm that <strong>${account.email}</strong> is your email address.</p>
<form method="post" action="/verify-email">
${deps.csrf.field(ctx, PURPOSE)}
<input type="hidden" name="token" value="${token}">
<div class="actions"><button type="submit">Confirm email address</button></div>
</form>`,
  });
}

async function submitVerify(ctx: Context, deps: PageContext): Promise<void> {
  const form = await readForm(ctx);
  if (!deps.csrf.verify(ctx, PURPOSE, form.get(CSRF_FIELD))) return respondCsrfFailure(ctx);
  const token = form.get('token') ?? '';
  const account = token ? await deps.accounts.consumeEmailToken('verify-email', token) : undefined;
  if (!account) return respondLinkInvalid(ctx);
  await deps.accounts.markEmailVerified(account.email);
  respondWithPage(ctx, 200, {
    title: 'Email address confirmed',
    notice: `${account.email} is confirmed.`,
    body: html`<p class="lead">You can close this page and go back to the application.</p>`,
  });
}

export function verifyEmailRoutes(router: Router, deps: PageContext): void {
  router.get('/verify-email', function getVerifyEmail(ctx) {
    return showVerify(ctx, deps);
  });
  router.post('/verify-email', function postVerifyEmail(ctx) {
    return submitVerify(ctx, deps);
  });
}
