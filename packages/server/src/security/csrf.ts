import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { html, type SafeHtml } from '../pages/html.ts';

/** Name of the hidden form field that carries the token. */
export const CSRF_FIELD = 'csrf';

/**
 * Signed double-submit CSRF protection: a random value in an HttpOnly, SameSite=Lax cookie,
 * and in every form an HMAC of that value and the form's purpose under a server key. A page
 * on another site can neither read the cookie nor compute the HMAC; binding the purpose
 * (for interactions, their uid) keeps a token from one form out of another.
 */
export interface CsrfProtection {
  /** The hidden input for a form; sets the cookie when the browser has none yet. */
  field(ctx: Context, purpose: string): SafeHtml;
  /** True when the submitted token matches the cookie and the purpose. */
  verify(ctx: Context, purpose: string, submitted: string | undefined): boolean;
}

function cookieName(ctx: Context): string {
  // `__Host-` cookies cannot be set by a sibling subdomain, and must be Secure.
  return ctx.secure ? '__Host-gatehouse.csrf' : 'gatehouse.csrf';
}

/**
 * @param secret `GATEHOUSE_SECRET`; without one (development) a key per process, so tokens
 *   do not survive a restart or cross instances.
 */
export function createCsrfProtection(secret: string | undefined): CsrfProtection {
  const key = secret
    ? Buffer.from(hkdfSync('sha256', secret, 'gatehouse/v1', 'gatehouse csrf tokens', 32))
    : randomBytes(32);
  const sign = (cookie: string, purpose: string) =>
    createHmac('sha256', key).update(`${cookie}\n${purpose}`).digest('base64url');

  function cookieValue(ctx: Context): string {
    // Unsigned: the form token is already an HMAC of the value, a Koa signature adds nothing.
    const existing = ctx.cookies.get(cookieName(ctx), { signed: false });
    if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
    const created = randomBytes(32).toString('base64url');
    ctx.cookies.set(cookieName(ctx), created, {
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      path: '/',
      overwrite: true,
      signed: false,
    });
    return created;
  }

  return {
    field(ctx, purpose) {
      return html`<input type="hidden" name="${CSRF_FIELD}" value="${sign(cookieValue(ctx), purpose)}">`;
    },
    verify(ctx, purpose, submitted) {
      const cookie = ctx.cookies.get(cookieName(ctx), { signed: false });
      if (!cookie || !submitted) return false;
      const expected = Buffer.from(sign(cookie, purpose));
      const actual = Buffer.from(submitted);
      return expected.length === actual.length && timingSafeEqual(expected, actual);
    },
  };
}
