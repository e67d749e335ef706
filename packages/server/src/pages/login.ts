import type Router from '@koa/router';
import type { Context } from 'koa';
import type { PasswordCheck } from '../accounts/index.ts';
import { CSRF_FIELD } from '../security/csrf.ts';
import type { LoginAttempt, RefusedLogin } from '../security/login-throttle.ts';
import { type PageContext, respondCsrfFailure, respondWithPage, waitInWords } from './context.ts';
import { html } from './html.ts';
import {
  clientDisplayName,
  finishInteraction,
  type InteractionDetails,
  interactionPurpose,
  loadInteraction,
  redirectToInteraction,
} from './interaction.ts';
import { readForm } from './page-form.ts';

/** One message for unknown emails and wrong passwords, so the page never says which. */
export const INVALID_CREDENTIALS_MESSAGE = 'The email or password is incorrect.';

interface LoginView {
  readonly email?: string | undefined;
  readonly error?: string | undefined;
}

async function renderLogin(
  ctx: Context,
  deps: PageContext,
  details: InteractionDetails,
  status: number,
  view: LoginView,
): Promise<void> {
  const uid = details.uid;
  const clientName = await clientDisplayName(deps, details.params.client_id);
  const hint = typeof details.params.login_hint === 'string' ? details.params.login_hint : undefined;
  const email = view.email ?? hint ?? '';
  const invalid = view.error ? 'true' : 'false';
  const body = html`<p class="lead">to continue to <span class="client">${clientName}</span></p>
<form method="post" action="/interaction/${uid}/login">
${deps.csrf.field(ctx, interactionPurpose(uid))}
<div class="field">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required maxlength="254" value="${email}" aria-invalid="${invalid}"${email ? '' : html` autofocus`}>
</div>
<div class="field">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024" aria-invalid="${invalid}"${email ? html` autofocus` : ''}>
</div>
<div class="actions">
<button type="submit">Sign in</button>
</div>
<div class="actions">
<button type="submit" class="secondary" formaction="/interaction/${uid}/abort" formnovalidate>Cancel</button>
</div>
</form>
<p class="links"><a href="/forgot-password?interaction=${uid}">Forgot your password?</a>${
    deps.config.selfRegistration === 'open'
      ? html`<a href="/register?interaction=${uid}">Create an account</a>`
      : ''
  }</p>`;
  respondWithPage(ctx, status, { title: 'Sign in', error: view.error, body });
}

export async function showLogin(ctx: Context, deps: PageContext, details: InteractionDetails): Promise<void> {
  await renderLogin(ctx, deps, details, 200, {});
}

/**
 * POST /interaction/:uid/login. The attempt is admitted (counted as in flight) before the
 * password is verified, so a locked account costs no argon2 work and a parallel burst verifies
 * at most as many passwords as the limit; unknown emails are counted like known ones.
 */
export async function submitLogin(ctx: Context, deps: PageContext): Promise<void> {
  const form = await readForm(ctx);
  const uid = String(ctx.params.uid);
  if (!deps.csrf.verify(ctx, interactionPurpose(uid), form.get(CSRF_FIELD))) return respondCsrfFailure(ctx);
  const email = (form.get('email') ?? '').trim();
  const password = form.get('password') ?? '';
  if (!email || !password) {
    const details = await loadLoginInteraction(ctx, deps, uid);
    if (!details) return;
    return renderLogin(ctx, deps, details, 400, { email, error: 'Enter your email and password.' });
  }
  // The interaction, the attempt's admission and the account are asked for in one tick, so they
  // share one round trip. The admission still decides before any password is verified; an
  // attempt admitted for a request with nothing to sign in to is given back uncounted.
  const admission = deps.throttle.admit(email, ctx.ip);
  const signIn = deps.accounts.beginSignIn(email);
  let details: InteractionDetails | undefined;
  try {
    details = await loadLoginInteraction(ctx, deps, uid);
  } catch (err) {
    await releaseUnused(admission);
    throw err;
  }
  if (!details) return releaseUnused(admission);
  const attempt = await admission;
  if (!attempt.allowed) {
    ctx.set('Retry-After', String(attempt.retryAfter));
    return renderLogin(ctx, deps, details, 429, {
      email,
      error:
        attempt.cause === 'locked'
          ? `Too many failed sign-in attempts. Try again in ${waitInWords(attempt.retryAfter)}, or reset your password.`
          : 'Too many sign-in attempts at once. Try again in a moment.',
    });
  }
  let check: PasswordCheck;
  try {
    check = await signIn.verifyPassword(password);
  } catch (err) {
    await attempt.release().catch(() => {});
    throw err;
  }
  if (!check.ok) {
    deps.onSecurityEvent?.({ type: 'login_failed', reason: check.reason, ip: ctx.ip });
    if (check.reason === 'disabled') {
      // The password was right: no guess to count.
      await attempt.release();
      return renderLogin(ctx, deps, details, 403, {
        email,
        error: 'This account is disabled. Contact your administrator.',
      });
    }
    for (const { scope, retryAfter } of await attempt.failed()) {
      // Once per window, so naming the account (when the email is one) costs one lookup per lockout.
      const account = scope === 'account' ? await deps.accounts.findByEmail(email) : undefined;
      deps.onSecurityEvent?.({
        type: 'lockout',
        scope,
        ip: ctx.ip,
        retryAfterSeconds: retryAfter,
        ...(account ? { accountId: account.id } : {}),
      });
    }
    return renderLogin(ctx, deps, details, 401, { email, error: INVALID_CREDENTIALS_MESSAGE });
  }
  // The attempt's slots go back (and the account's failures are forgotten) in the round trip
  // that saves the result: both are issued in one tick, which the Redis connection pipelines.
  // Nothing is counted here, so the admission above stays the only gate before argon2.
  await Promise.all([
    attempt.succeeded(),
    // RFC 8176 §2: "pwd" — password-based authentication.
    finishInteraction(
      ctx,
      details,
      { login: { accountId: check.account.id, amr: ['pwd'] } },
      { mergeWithLastSubmission: false },
    ),
  ]);
}

/**
 * {@link loadInteraction} for the sign-in form: `undefined` once answered, with the "expired"
 * page, or with a redirect when another tab finished this step already (the interaction asks
 * something else now).
 */
async function loadLoginInteraction(
  ctx: Context,
  deps: PageContext,
  uid: string,
): Promise<InteractionDetails | undefined> {
  const details = await loadInteraction(ctx, deps);
  if (details && details.prompt.name !== 'login') {
    redirectToInteraction(ctx, uid);
    return undefined;
  }
  return details;
}

/** Gives back the slots of an admission the request turned out not to need. */
async function releaseUnused(admission: Promise<LoginAttempt | RefusedLogin>): Promise<void> {
  try {
    const attempt = await admission;
    if (attempt.allowed) await attempt.release();
  } catch {
    // Nothing was taken, or the slot frees itself (IN_FLIGHT_SECONDS); the answer is already decided.
  }
}

export function loginRoutes(router: Router, deps: PageContext): void {
  router.post('/interaction/:uid/login', function postLogin(ctx) {
    return submitLogin(ctx, deps);
  });
}
