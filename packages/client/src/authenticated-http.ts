import ky, { type HTTPError, type KyInstance, type Options } from 'ky';
import { describeError } from './errors.ts';
import type { AccessTokenTarget } from './token-set.ts';

/**
 * What `auth.http` adds to ky's `HTTPError` when the API said why it refused: the OAuth-style `error` and
 * `error_description` of its JSON body (RFC 6749 §5.2 shape), else of its `WWW-Authenticate: Bearer`
 * challenge (RFC 6750 §3). The message then names them instead of only the status.
 *
 * @example
 * ```ts
 * try {
 *   await auth.http.post('https://api.example.com/recipes', { json: {} });
 * } catch (err) {
 *   if (err instanceof HTTPError) console.warn((err as ApiHttpError).error_description);
 * }
 * ```
 */
export type ApiHttpError = HTTPError & { error?: string; error_description?: string };

const challengeParam = (header: string | null, name: string): string | undefined =>
  new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`, 'i').exec(header ?? '')?.[1];

/**
 * What the ky hooks need from the client.
 *
 * @example
 * ```ts
 * const http = createAuthenticatedHttp({ ...options, apiOrigins: ['https://api.example.com'] });
 * ```
 */
export interface AuthenticatedHttpOptions {
  getAccessToken(target?: AccessTokenTarget): Promise<string>;
  /**
   * A token other than `staleAccessToken`: the current one if it was replaced meanwhile, else one renewal shared
   * with every other caller.
   */
  refresh(staleAccessToken: string, target?: AccessTokenTarget): Promise<{ accessToken: string }>;
  /** Only requests to these origins get the token; `undefined`: every request. */
  apiOrigins?: readonly string[] | undefined;
  /** Extra ky options (prefix, timeout, retry, headers …) merged under the auth hooks. */
  http?: Options | undefined;
  fetch: typeof fetch;
}

/**
 * RFC 6750 §3.1: `invalid_token` means expired, revoked or malformed — the only 401 a refresh can fix. A
 * DPoP-bound token's challenge uses the `DPoP` scheme (RFC 9449 §7.1).
 *
 * @example
 * ```ts
 * isInvalidTokenChallenge('Bearer error="invalid_token"'); // true
 * isInvalidTokenChallenge('Bearer error="insufficient_scope"'); // false: a new token would not help
 * ```
 */
export function isInvalidTokenChallenge(header: string | null): boolean {
  return /^\s*(Bearer|DPoP)\b.*\berror\s*=\s*"?invalid_token\b/i.test(header ?? '');
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
 *   http: { prefix: 'https://api.example.com' }, fetch });
 * const me = await http.get('me').json();
 * ```
 */
export function createAuthenticatedHttp(options: AuthenticatedHttpOptions): KyInstance {
  const origins = options.apiOrigins?.map((origin) => new URL(origin).origin);
  const bearer = (request: Request) =>
    (!origins || origins.includes(new URL(request.url).origin)) &&
    /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  // A request names another API with ky's per-call `context: { resource, scope }`.
  const authorize = async (request: Request, target: AccessTokenTarget) =>
    request.headers.set('authorization', `Bearer ${await options.getAccessToken(target)}`);
  // Our hooks run first (later hooks see the header); the caller's `http` options are merged after them.
  return ky
    .create({
      fetch: options.fetch,
      hooks: {
        beforeRequest: [
          async ({ request, options: { context } }) => {
            if (bearer(request) !== false && !request.headers.has('authorization'))
              await authorize(request, context);
          },
        ],
        // Every retry (ours or ky's own 5xx retries) carries the token that is current now.
        beforeRetry: [
          async ({ request, options: { context } }) =>
            void (bearer(request) && (await authorize(request, context))),
        ],
        beforeError: [
          ({ error }) => {
            const { data, response, request } = error as ApiHttpError & { data?: unknown };
            if (!response) return error;
            // Object() of a non-object (no body, a string body) has no string `error` field.
            const body = Object(data) as Record<string, unknown>;
            const header = response.headers.get('www-authenticate');
            // The JSON body wins; RFC 6750 §3 puts the same fields into the challenge of a 401 or 403.
            const field = (name: string) =>
              typeof body[name] === 'string' ? (body[name] as string) : challengeParam(header, name);
            const code = field('error');
            if (code) {
              const description = field('error_description');
              Object.assign(error, { error: code, error_description: description });
              error.message = `${describeError(code, description)} (${response.status} from ${request.method} ${request.url})`;
            }
            return error;
          },
        ],
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
            if ((await options.refresh(failed, context)).accessToken !== failed)
              return ky.retry({ code: 'GATEHOUSE_TOKEN_RENEWED', delay: 0 });
          },
        ],
      },
    })
    .extend(options.http ?? {});
}
