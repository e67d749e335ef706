import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Account } from '../accounts/index.ts';
import { CSRF_FIELD } from '../security/csrf.ts';
import { limitedAddress } from '../security/limited-address.ts';
import { emailCounterId } from '../security/login-throttle.ts';
import type { RateLimit } from '../security/rate-limiter.ts';
import {
  interactionUidOrUndefined,
  type PageContext,
  respondCsrfFailure,
  respondTooManyAttempts,
  respondWithPage,
} from './context.ts';
import { afterResponse } from './email-messages.ts';
import { html, type SafeHtml } from './html.ts';
import { readForm } from './page-form.ts';

/**
 * A page where a person asks for a link by email (a password reset, a new confirmation link).
 *
 * @example
 * const request: EmailLinkRequest = { path: '/forgot-password', title: 'Reset your password', … };
 */
export interface EmailLinkRequest {
  readonly path: string;
  readonly title: string;
  /** What the form is for, above it. */
  readonly lead: string;
  readonly button: string;
  /** Rate-limit counters are `<counter>:ip:<ip>` and `<counter>:email:<hash>`. */
  readonly counter: string;
  readonly perIp: RateLimit;
  readonly perEmail: RateLimit;
  /** Shown once the request is taken, whoever the address belongs to. */
  readonly sentNotice: string;
  readonly sentLead: string;
  /** Sends the link if `account` should get one; runs after the response. */
  send(deps: PageContext, account: Account): Promise<void>;
}

function requestForm(
  ctx: Context,
  deps: PageContext,
  request: EmailLinkRequest,
  interaction: string | undefined,
  email = '',
): SafeHtml {
  return html`<p class="lead">${request.lead}</p>
<form method="post" action="${request.path}">
${deps.csrf.field(ctx, request.path)}
${interaction ? html`<input type="hidden" name="interaction" value="${interaction}">` : ''}
<div class="field">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required maxlength="254" value="${email}" autofocus>
</div>
<div class="actions"><button type="submit">${request.button}</button></div>
</form>
${interaction ? html`<p class="links"><a href="/interaction/${interaction}">Back to sign in</a></p>` : ''}`;
}

/**
 * The same page, status and work on the request path for every email, known or not: the account
 * lookup, token and mail happen after the response, so neither the answer nor its timing tells
 * whether an account exists. Rate limited per IP (429) and per email (silently: no more mail).
 */
async function submitRequest(ctx: Context, deps: PageContext, request: EmailLinkRequest): Promise<void> {
  const form = await readForm(ctx);
  if (!deps.csrf.verify(ctx, request.path, form.get(CSRF_FIELD))) return respondCsrfFailure(ctx);
  const interaction = interactionUidOrUndefined(form.get('interaction'));
  const email = (form.get('email') ?? '').trim();
  const [perIp, perEmail] = await Promise.all([
    deps.limiter.hit(`${request.counter}:ip:${limitedAddress(ctx.ip)}`, request.perIp),
    deps.limiter.hit(`${request.counter}:email:${emailCounterId(email)}`, request.perEmail),
  ]);
  if (!perIp.allowed) {
    return respondTooManyAttempts(ctx, perIp.retryAfter, {
      title: request.title,
      body: requestForm(ctx, deps, request, interaction, email),
    });
  }
  if (email && perEmail.allowed) {
    afterResponse(deps, `${request.counter} email`, async () => {
      const account = await deps.accounts.findByEmail(email);
      if (account && !account.disabled) await request.send(deps, account);
    });
  }
  respondWithPage(ctx, 200, {
    title: 'Check your email',
    notice: request.sentNotice,
    body: html`<p class="lead">${request.sentLead}</p>
${interaction ? html`<p class="links"><a href="/interaction/${interaction}">Back to sign in</a></p>` : ''}`,
  });
}

/**
 * `GET|POST <request.path>`.
 *
 * @example
 * emailLinkRequestRoutes(router, deps, forgotPassword);
 */
export function emailLinkRequestRoutes(router: Router, deps: PageContext, request: EmailLinkRequest): void {
  router.get(request.path, function getEmailLinkRequest(ctx) {
    const interaction = interactionUidOrUndefined(ctx.query.interaction);
    respondWithPage(ctx, 200, { title: request.title, body: requestForm(ctx, deps, request, interaction) });
  });
  router.post(request.path, function postEmailLinkRequest(ctx) {
    return submitRequest(ctx, deps, request);
  });
}
