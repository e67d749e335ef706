import type Router from '@koa/router';
import type { Context } from 'koa';
import { AccountError } from '../accounts/account-error.ts';
import type { Account } from '../accounts/account-store.ts';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../accounts/password.ts';
import { CSRF_FIELD } from '../security/csrf.ts';
import { PASSWORD_RESETS_PER_EMAIL, PASSWORD_RESETS_PER_IP } from '../security/login-throttle.ts';
import { linkTo, type PageContext, respondCsrfFailure, respondWithPage } from './context.ts';
import { type EmailLinkRequest, emailLinkRequestRoutes } from './email-link-request.ts';
import { resetMessage } from './email-messages.ts';
import { endAccountAccess } from './end-account-access.ts';
import { html, type SafeHtml } from './html.ts';
import { readForm } from './page-form.ts';

const RESET = 'reset-password';

/** `GET|POST /forgot-password`: a single-use link (1 hour) to choose a new password. */
const forgotPassword: EmailLinkRequest = {
  path: '/forgot-password',
  title: 'Reset your password',
  lead: 'Enter the email address of your account and we will send you a link to choose a new password.',
  button: 'Send reset link',
  counter: 'reset',
  perIp: PASSWORD_RESETS_PER_IP,
  perEmail: PASSWORD_RESETS_PER_EMAIL,
  sentNotice: 'If an account exists for that address, we have sent it a link to choose a new password.',
  sentLead:
    'The link works once, for 1 hour. Nothing arrived? Check your spam folder, or try again in a few minutes.',
  async send(deps, account) {
    const token = await deps.accounts.issueEmailToken('reset-password', account.id);
    await deps.mailer.send(resetMessage(account.email, linkTo(deps.config, '/reset-password', { token })));
  },
};

function respondResetLinkInvalid(ctx: Context): void {
  respondWithPage(ctx, 400, {
    title: 'This link has expired',
    error:
      'The reset link is no longer valid: your password was changed since it was sent, it was already used, or it is older than 1 hour.',
    body: html`<p class="lead"><a href="/forgot-password">Ask for a new link</a>.</p>`,
  });
}

function resetForm(ctx: Context, deps: PageContext, token: string, email: string): SafeHtml {
  return html`<p class="lead">Choose a new password for <strong>${email}</strong>.</p>
<form method="post" action="/reset-password">
${deps.csrf.field(ctx, RESET)}
<input type="hidden" name="token" value="${token}">
<input type="hidden" name="email" autocomplete="username" value="${email}">
<div class="field">
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${PASSWORD_MIN_LENGTH}" maxlength="${PASSWORD_MAX_LENGTH}" aria-describedby="password-hint" autofocus>
<span class="hint" id="password-hint">${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters, not a common password and not your email address.</span>
</div>
<div class="actions"><button type="submit">Set new password</button></div>
</form>`;
}

async function showReset(ctx: Context, deps: PageContext): Promise<void> {
  const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
  const account = token ? await deps.accounts.peekEmailToken('reset-password', token) : undefined;
  if (!account) return respondResetLinkInvalid(ctx);
  respondWithPage(ctx, 200, {
    title: 'Choose a new password',
    body: resetForm(ctx, deps, token, account.email),
  });
}

/**
 * POST /reset-password: a refused password keeps the link usable; a good one uses it up.
 * The link proves the mailbox, so whoever was signed in before, with the old password or on
 * an address they never confirmed, is signed out everywhere and their grants end (account
 * pre-hijacking: a squatter who registered the address first keeps nothing).
 */
async function submitReset(ctx: Context, deps: PageContext): Promise<void> {
  const form = await readForm(ctx);
  if (!deps.csrf.verify(ctx, RESET, form.get(CSRF_FIELD))) return respondCsrfFailure(ctx);
  const token = form.get('token') ?? '';
  const password = form.get('password') ?? '';
  if (!token) return respondResetLinkInvalid(ctx);
  let account: Account | undefined;
  try {
    account = await deps.accounts.resetPassword(token, password);
  } catch (err) {
    if (!(err instanceof AccountError && err.code === 'weak_password')) throw err;
    const pending = await deps.accounts.peekEmailToken('reset-password', token);
    if (!pending) return respondResetLinkInvalid(ctx);
    return respondWithPage(ctx, 400, {
      title: 'Choose a new password',
      error: `Choose another password: ${err.message}`,
      body: resetForm(ctx, deps, token, pending.email),
    });
  }
  if (!account) return respondResetLinkInvalid(ctx);
  await endAccountAccess(deps, account.email, 'password reset');
  // The lockout is over for the person who proved the mailbox.
  await deps.throttle.recordSuccess(account.email);
  respondWithPage(ctx, 200, {
    title: 'Password changed',
    notice: 'Your new password is set.',
    body: html`<p class="lead">For your security, every device signed in to your account was signed out. Go back to the application and sign in with your new password.</p>`,
  });
}

export function passwordResetRoutes(router: Router, deps: PageContext): void {
  emailLinkRequestRoutes(router, deps, forgotPassword);
  router.get('/reset-password', function getResetPassword(ctx) {
    return showReset(ctx, deps);
  });
  router.post('/reset-password', function postResetPassword(ctx) {
    return submitReset(ctx, deps);
  });
}
