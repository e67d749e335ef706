import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import type { AccountStore } from '../accounts/account-store.ts';
import type { Mailer } from '../accounts/mailer.ts';
import type { Config } from '../config/config.ts';
import type { SecurityEvent, SecurityEventContext } from '../observability/security-events.ts';
import type { CsrfProtection } from '../security/csrf.ts';
import type { LoginThrottle } from '../security/login-throttle.ts';
import type { RateLimiter } from '../security/rate-limiter.ts';
import type { ReadAhead } from '../store/read-ahead.ts';
import { html } from './html.ts';
import { type PageOptions, page } from './layout.ts';

/** Where the pages report what a person must not see (failed mail, unexpected errors). */
export interface PageLog {
  warn(context: Record<string, unknown>, message: string): void;
  error(context: Record<string, unknown>, message: string): void;
}

/** What {@link createPageRoutes} needs from the server. */
export interface InteractionDeps {
  /** The provider, looked up per request (the app builds it after the routes). */
  readonly provider: () => Provider;
  readonly accounts: AccountStore;
  readonly config: Config;
  readonly mailer: Mailer;
  readonly limiter: RateLimiter;
  /**
   * The server's grant revocation (the grant and every token of it; resource servers are
   * told), used when a password reset or the first email confirmation ends an account's access.
   */
  readonly revokeGrant: (grantId: string) => Promise<void>;
  /**
   * Reads made ahead of oidc-provider (`store/read-ahead.ts`, its adapter): the interaction pages
   * and the resume read what the provider reads one after another together. Without it, they
   * read as the provider does.
   */
  readonly readAhead?: ReadAhead | undefined;
  /** Defaults to the console. */
  readonly log?: PageLog | undefined;
  /** Sign-in failures and lockouts, for the security log and metrics. */
  readonly onSecurityEvent?: ((event: SecurityEvent & SecurityEventContext) => void) | undefined;
}

/** The dependencies plus what the routes derive from them once. */
export interface PageContext extends InteractionDeps {
  readonly csrf: CsrfProtection;
  readonly throttle: LoginThrottle;
  readonly log: PageLog;
}

export const consoleLog: PageLog = {
  warn: (context, message) => console.warn(message, context),
  error: (context, message) => console.error(message, context),
};

/** Renders a full page with a status; every page goes through here. */
export function respondWithPage(ctx: Context, status: number, options: PageOptions): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = page(options);
}

/** The 403 for a missing or wrong CSRF token; nothing has changed. */
export function respondCsrfFailure(ctx: Context): void {
  respondWithPage(ctx, 403, {
    title: 'This form has expired',
    error: 'For your security this form could not be accepted. Go back, reload the page and try again.',
    body: html`<p class="lead">Nothing was changed.</p>`,
  });
}

/** The 429 when a limiter refuses, with `Retry-After` and the wait in words. */
export function respondTooManyAttempts(ctx: Context, retryAfter: number, options: PageOptions): void {
  ctx.set('Retry-After', String(retryAfter));
  respondWithPage(ctx, 429, {
    ...options,
    error: `Too many attempts. Try again in ${waitInWords(retryAfter)}.`,
  });
}

export function waitInWords(seconds: number): string {
  if (seconds < 60) return seconds === 1 ? '1 second' : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

/** Interaction uids are oidc-provider nanoids; anything else in a link is ignored. */
export function interactionUidOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : undefined;
}

/** An absolute link to one of our pages, under the issuer (which may have a path). */
export function linkTo(config: Pick<Config, 'issuer'>, path: string, query: Record<string, string>): string {
  const url = new URL(`${config.issuer}${path}`);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  return url.href;
}
