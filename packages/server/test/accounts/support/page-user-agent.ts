import { CookieJar } from '@gatehouse/testkit/forms';

/** The hidden CSRF field of the (only) form on a page. */
function csrfOf(body: string): string {
  const token = /name="csrf" value="([^"]+)"/.exec(body)?.[1];
  if (!token) throw new Error('no form with a CSRF token on this page');
  return token;
}

/**
 * A browser without rendering: one cookie jar (CSRF cookie, oidc-provider's session), pages
 * fetched and forms posted over HTTP as the real pages are, redirects followed by hand.
 *
 * @example
 * const squatter = new PageUserAgent(server.issuer);
 * const callback = await squatter.authorize(request.url, server.redirectUri, { email, password });
 */
export class PageUserAgent {
  readonly #origin: string;
  readonly #jar = new CookieJar();

  constructor(origin: string) {
    this.#origin = origin;
  }

  async get(url: string): Promise<Response> {
    const response = await fetch(new URL(url, this.#origin), {
      redirect: 'manual',
      headers: { cookie: this.#jar.header() },
    });
    this.#jar.store(response);
    return response;
  }

  async post(url: string, fields: Record<string, string>): Promise<Response> {
    const response = await fetch(new URL(url, this.#origin), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: this.#jar.header() },
      body: new URLSearchParams(fields),
    });
    this.#jar.store(response);
    return response;
  }

  /** Opens `page`, then submits its form to `action` with `fields`; returns status and page text. */
  async submit(
    page: string,
    action: string,
    fields: Record<string, string>,
  ): Promise<{ status: number; body: string }> {
    const form = await this.get(page);
    const csrf = csrfOf(await form.text());
    const response = await this.post(action, { csrf, ...fields });
    return { status: response.status, body: await response.text() };
  }

  /**
   * Follows an authorization request to the client's redirect URI: signs in on the sign-in page
   * with `credentials` and allows on the consent page when they are shown. Returns the callback
   * URL (with `code`, or `error` e.g. for `prompt=none`). Throws when a page asks for a sign-in
   * and no credentials were given, or a page answers with an error status.
   */
  async authorize(
    authorizationUrl: string,
    redirectUri: string,
    credentials?: { email: string; password: string },
  ): Promise<URL> {
    let response = await this.get(authorizationUrl);
    for (let hops = 0; hops < 20; hops++) {
      const location = response.headers.get('location');
      if (location) {
        const next = new URL(location, this.#origin);
        if (next.href.startsWith(redirectUri)) return next;
        response = await this.get(next.href);
        continue;
      }
      const body = await response.text();
      if (response.status !== 200) throw new Error(`authorization stopped at ${response.status}: ${body}`);
      const action = /<form method="post" action="(\/interaction\/[^"]+)"/.exec(body)?.[1] ?? '';
      if (action.endsWith('/login')) {
        if (!credentials) throw new Error('asked to sign in');
        response = await this.post(action, { csrf: csrfOf(body), ...credentials });
      } else if (action.endsWith('/confirm')) {
        response = await this.post(action, { csrf: csrfOf(body) });
      } else {
        throw new Error(`unexpected page: ${body.slice(0, 200)}`);
      }
    }
    throw new Error('too many redirects');
  }
}
