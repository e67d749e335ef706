import ky, { type KyInstance, type Options } from 'ky';

/**
 * What the ky hooks need from the client.
 *
 * @example
 * ```ts
 * const http = createAuthenticatedHttp({ ...options, apiOrigins: ['https://api.example.com'] });
 * ```
 */
export interface AuthenticatedHttpOptions {
  getAccessToken(): Promise<string>;
  /**
   * A token other than `staleAccessToken`: the current one if it was replaced meanwhile, else one renewal shared
   * with every other caller.
   */
  refresh(staleAccessToken: string): Promise<{ accessToken: string }>;
  /** Only requests to these origins get the token; `undefined`: every request. */
  apiOrigins: readonly string[] | undefined;
  /** Extra ky options (prefix, timeout, retry, headers …) merged under the auth hooks. */
  kyOptions: Options | undefined;
  fetch: typeof fetch;
}

/**
 * RFC 6750 §3.1: `invalid_token` means expired, revoked or malformed — the only 401 a refresh can fix.
 *
 * @example
 * ```ts
 * isInvalidTokenChallenge('Bearer error="invalid_token"'); // true
 * isInvalidTokenChallenge('Bearer error="insufficient_scope"'); // false: a new token would not help
 * ```
 */
export function isInvalidTokenChallenge(header: string | null): boolean {
  return /^\s*Bearer\b.*\berror\s*=\s*"?invalid_token\b/i.test(header ?? '');
}

/**
 * A ky instance that sends `Authorization: Bearer …` and, when the API answers 401 `invalid_token`, renews once
 * and retries once. It renews only if the token that failed is still the current one (otherwise it simply
 * retries with the current token), at most once per request, so a second 401 surfaces as `HTTPError` instead
 * of looping. The retry uses ky's `retry.limit` (default 2); with `retry: 0` a 401 is returned as is.
 *
 * @example
 * ```ts
 * const http = createAuthenticatedHttp({ getAccessToken, refresh, apiOrigins: undefined,
 *   kyOptions: { prefix: 'https://api.example.com' }, fetch });
 * const me = await http.get('me').json();
 * ```
 */
export function createAuthenticatedHttp(options: AuthenticatedHttpOptions): KyInstance {
  const origins = options.apiOrigins?.map((origin) => new URL(origin).origin);
  const bearer = (request: Request) =>
    (!origins || origins.includes(new URL(request.url).origin)) &&
    /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  const authorize = async (request: Request) =>
    request.headers.set('authorization', `Bearer ${await options.getAccessToken()}`);
  // Our hooks run first (later hooks see the header); the caller's kyOptions are merged after them.
  return ky
    .create({
      fetch: options.fetch,
      hooks: {
        beforeRequest: [
          async ({ request }) => {
            if (bearer(request) !== false && !request.headers.has('authorization')) await authorize(request);
          },
        ],
        // Every retry (ours or ky's own 5xx retries) carries the token that is current now.
        beforeRetry: [async ({ request }) => void (bearer(request) && (await authorize(request)))],
        afterResponse: [
          async ({ request, response, options: { context } }) => {
            const failed = bearer(request);
            if (
              response.status !== 401 ||
              !isInvalidTokenChallenge(response.headers.get('www-authenticate')) ||
              !failed ||
              context.gatehouseRenewed
            )
              return;
            // ky gives every call its own `context` object: renew at most once per call.
            context.gatehouseRenewed = true;
            // refresh() renews only if the rejected token is still the current one; if it was replaced meanwhile,
            // it hands back the current token, which may work.
            if ((await options.refresh(failed)).accessToken !== failed)
              return ky.retry({ code: 'GATEHOUSE_TOKEN_RENEWED', delay: 0 });
          },
        ],
      },
    })
    .extend(options.kyOptions ?? {});
}
