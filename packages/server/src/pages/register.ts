import type Router from '@koa/router';
import type { Context } from 'koa';
import { AccountError } from '../accounts/account-error.ts';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../accounts/password.ts';
import { passwordProblem } from '../accounts/password-policy.ts';
import { CSRF_FIELD } from '../security/csrf.ts';
import { limitedAddress } from '../security/limited-address.ts';
import { REGISTRATIONS_PER_IP } from '../security/login-throttle.ts';
import {
  interactionUidOrUndefined,
  linkTo,
  type PageContext,
  respondCsrfFailure,
  respondTooManyAttempts,
  respondWithPage,
} from './context.ts';
import { afterResponse, alreadyRegisteredMessage } from './email-messages.ts';
import { html, type SafeHtml } from './html.ts';
import { readForm } from './page-form.ts';
import { sendVerificationLink } from './verify-email.ts';

const PURPOSE = 'register';

interface RegisterView {
  readonly email?: string;
  readonly name?: string;
  readonly emailError?: string | undefined;
  readonly passwordError?: string | undefined;
  readonly interaction?: string | undefined;
}

function backToSignIn(interaction: string | undefined): SafeHtml {
  return interaction
    ? html`<p class="links"><a href="/interaction/${interaction}">Back to sign in</a></p>`
    : html``;
}

function registerForm(ctx: Context, deps: PageContext, view: RegisterView): SafeHtml {
  const emailDescribed = view.emailError ? 'email-error' : undefined;
  return html`<form method="post" action="/register">
${deps.csrf.field(ctx, PURPOSE)}
${view.interaction ? html`<input type="hidden" name="interaction" value="${view.interaction}">` : ''}
<div class="field">
<label for="name">Name <span class="hint">optional</span></label>
<input id="name" name="name" type="text" autocomplete="name" maxlength="200" value="${view.name ?? ''}">
</div>
<div class="field">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required maxlength="254" value="${view.email ?? ''}" aria-invalid="${view.emailError ? 'true' : 'false'}"${emailDescribed ? html` aria-describedby="${emailDescribed}"` : ''}>
${view.emailError ? html`<span class="hint" id="email-error">${view.emailError}</span>` : ''}
</div>
<div class="field">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${PASSWORD_MIN_LENGTH}" maxlength="${PASSWORD_MAX_LENGTH}" aria-describedby="password-hint" aria-invalid="${view.passwordError ? 'true' : 'false'}">
<span class="hint" id="password-hint">${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters, not a common password and not your email address. A few unrelated words make a good one.</span>
</div>
<div class="actions"><button type="submit">Create account</button></div>
</form>
${backToSignIn(view.interaction)}`;
}

function respondClosed(ctx: Context): void {
  respondWithPage(ctx, 403, {
    title: 'Sign-up is closed',
    error: 'New accounts cannot be created here. Ask your administrator for an account.',
    body: html``,
  });
}

async function showRegister(ctx: Context, deps: PageContext): Promise<void> {
  if (deps.config.selfRegistration === 'closed') return respondClosed(ctx);
  const interaction = interactionUidOrUndefined(ctx.query.interaction);
  respondWithPage(ctx, 200, { title: 'Create your account', body: registerForm(ctx, deps, { interaction }) });
}

/**
 * POST /register. A new and an already-registered email get the same page ("check your
 * email"); the owner of an existing account is told by mail instead, so the form cannot be
 * used to find out who has an account.
 */
async function submitRegister(ctx: Context, deps: PageContext): Promise<void> {
  if (deps.config.selfRegistration === 'closed') return respondClosed(ctx);
  const form = await readForm(ctx);
  if (!deps.csrf.verify(ctx, PURPOSE, form.get(CSRF_FIELD))) return respondCsrfFailure(ctx);
  const interaction = interactionUidOrUndefined(form.get('interaction'));
  const view = {
    email: (form.get('email') ?? '').trim(),
    name: (form.get('name') ?? '').trim(),
    interaction,
  };
  const rate = await deps.limiter.hit(`register:ip:${limitedAddress(ctx.ip)}`, REGISTRATIONS_PER_IP);
  if (!rate.allowed) {
    return respondTooManyAttempts(ctx, rate.retryAfter, {
      title: 'Create your account',
      body: registerForm(ctx, deps, view),
    });
  }
  const password = form.get('password') ?? '';
  const passwordError = await passwordProblem(password, { email: view.email });
  if (passwordError) {
    return respondWithPage(ctx, 400, {
      title: 'Create your account',
      error: `Choose another password: ${passwordError}`,
      body: registerForm(ctx, deps, { ...view, passwordError }),
    });
  }
  try {
    const account = await deps.accounts.create({ email: view.email, password, name: view.name });
    afterResponse(deps, 'verification email', () => sendVerificationLink(deps, account));
  } catch (err) {
    if (!(err instanceof AccountError)) throw err;
    if (err.code === 'email_taken') {
      afterResponse(deps, 'already-registered email', async () => {
        const existing = await deps.accounts.findByEmail(view.email);
        const reset = linkTo(deps.config, '/forgot-password', {});
        await deps.mailer.send(
          alreadyRegisteredMessage(
            existing?.email ?? view.email,
            `Sign in, or choose a new password at ${reset}\n`,
          ),
        );
      });
    } else {
      const emailError = err.code === 'invalid_email' ? err.message : undefined;
      return respondWithPage(ctx, 400, {
        title: 'Create your account',
        error: err.message,
        body: registerForm(ctx, deps, { ...view, emailError }),
      });
    }
  }
  respondWithPage(ctx, 200, {
    title: 'Check your email',
    notice: `We sent a message to ${view.email}. Open the link in it to confirm your address.`,
    body: html`<p class="lead">The link works for 24 hours. You can sign in already. Nothing arrived? <a href="/verify-email/resend${interaction ? `?interaction=${interaction}` : ''}">Send a new link</a>.</p>${backToSignIn(interaction)}`,
  });
}

export function registerRoutes(router: Router, deps: PageContext): void {
  router.get('/register', function getRegister(ctx) {
    return showRegister(ctx, deps);
  });
  router.post('/register', function postRegister(ctx) {
    return submitRegister(ctx, deps);
  });
}
