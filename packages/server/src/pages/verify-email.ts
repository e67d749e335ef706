import type Router from '@koa/router';
import type { Context } from 'koa';
import { CSRF_FIELD } from '../security/csrf.ts';
import { VERIFICATION_RESENDS_PER_EMAIL, VERIFICATION_RESENDS_PER_IP } from '../security/login-throttle.ts';
import { linkTo, type PageContext, respondCsrfFailure, respondWithPage } from './context.ts';
import { type EmailLinkRequest, emailLinkRequestRoutes } from './email-link-request.ts';
import { verificationMessage } from './email-messages.ts';
import { endAccountAccess } from './end-account-access.ts';
import { html } from './html.ts';
import { readForm } from './page-form.ts';

const PURPOSE = 'verify-email';

function respondLinkInvalid(ctx: Context): void {
  respondWithPage(ctx, 400, {
    title: 'This link has expired',
    error: 'The confirmation link is no longer valid: it was already used, or it is older than 24 hours.',
    body: html`<p class="lead">If your address is not confirmed yet, <a href="/verify-email/resend">ask for a new link</a>.</p>`,
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

/**
 * POST /verify-email. Until the first confirmation the address was only claimed: whoever
 * signed in on that claim may be someone else than the mailbox owner (account pre-hijacking),
 * so the first confirmation signs every device out and ends every grant.
 */
async function submitVerify(ctx: Context, deps: PageContext): Promise<void> {
  const form = await readForm(ctx);
  if (!deps.csrf.verify(ctx, PURPOSE, form.get(CSRF_FIELD))) return respondCsrfFailure(ctx);
  const token = form.get('token') ?? '';
  const account = token ? await deps.accounts.consumeEmailToken('verify-email', token) : undefined;
  if (!account) return respondLinkInvalid(ctx);
  const first = !account.emailVerified;
  await deps.accounts.markEmailVerified(account.email);
  if (first) await endAccountAccess(deps, account.email, 'email confirmation');
  respondWithPage(ctx, 200, {
    title: 'Email address confirmed',
    notice: `${account.email} is confirmed.`,
    body: first
      ? html`<p class="lead">For your security, every device that was signed in to this account was signed out. Go back to the application and sign in again.</p>`
      : html`<p class="lead">You can close this page and go back to the application.</p>`,
  });
}

/** Issues a single-use confirmation token for `account` and mails the link (24 hours, one use). */
export async function sendVerificationLink(
  deps: PageContext,
  account: { readonly id: string; readonly email: string },
): Promise<void> {
  const token = await deps.accounts.issueEmailToken('verify-email', account.id);
  await deps.mailer.send(verificationMessage(account.email, linkTo(deps.config, '/verify-email', { token })));
}

/** `GET|POST /verify-email/resend`: a new confirmation link for an address not confirmed yet. */
const resendConfirmation: EmailLinkRequest = {
  path: '/verify-email/resend',
  title: 'Confirm your email address',
  lead: 'Enter the email address of your account and we will send you a new link to confirm it.',
  button: 'Send a new link',
  counter: 'verify-resend',
  perIp: VERIFICATION_RESENDS_PER_IP,
  perEmail: VERIFICATION_RESENDS_PER_EMAIL,
  sentNotice: 'If an account with an unconfirmed address exists for it, we have sent it a new link.',
  sentLead:
    'The link works once, for 24 hours. Nothing arrived? Check your spam folder, or try again in a few minutes.',
  send: (deps, account) => (account.emailVerified ? Promise.resolve() : sendVerificationLink(deps, account)),
};

export function verifyEmailRoutes(router: Router, deps: PageContext): void {
  router.get('/verify-email', function getVerifyEmail(ctx) {
    return showVerify(ctx, deps);
  });
  emailLinkRequestRoutes(router, deps, resendConfirmation);
  router.post('/verify-email', function postVerifyEmail(ctx) {
    return submitVerify(ctx, deps);
  });
}
