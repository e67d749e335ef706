import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader } from 'jose';
import type Koa from 'koa';
import { type Configuration, errors, type KoaContextWithOIDC, type Provider } from 'oidc-provider';
import type { ReplayGuard } from '../store/replay-guard.ts';
import { isGrantType } from '../tokens/grant-types.ts';

/**
 * Everything Gatehouse relies on in oidc-provider that the library offers no hook for. Each
 * quirk is pinned by a test in `oidc-provider-quirks.test.ts` that names it and fails when the
 * library stops behaving as described, so an upgrade is this file and one failing test away.
 * Everything else goes through the library's configuration, events and error classes.
 */

/** The oidc-provider release the quirks below were verified against. */
export const QUIRKS_VERIFIED_WITH = '9.13.3';

/** The names the quirk tests use. */
export const QUIRKS = Object.freeze({
  parsedBodyNotice: 'parsed-body-notice',
  grantNotAllowedIsInvalidRequest: 'grant-not-allowed-is-invalid_request',
  structuredTokensRefused: 'structured-tokens-refused',
  deviceErrorPageUnsavedSession: 'device-error-page-unsaved-session',
  replayDetectionCheckThenAct: 'replay-detection-check-then-act',
  dpopJktCheckedAfterConsume: 'dpop-jkt-checked-after-consume',
});

const PROVIDER_ERROR = Symbol('oidc-provider error');

type WithProviderError = { [PROVIDER_ERROR]?: errors.OIDCProviderError };

/**
 * Remembers on the request the error oidc-provider answered a form endpoint with. Its error
 * handler renders the error and reports it only through these events, so the middleware in
 * front of it can decide by error class (`instanceof`), never by message. Attach to every
 * provider instance (a key rotation builds a new one).
 */
export function rememberProviderErrors(provider: Provider): void {
  const remember = (ctx: KoaContextWithOIDC, err: unknown) => {
    if (err instanceof errors.OIDCProviderError) (ctx.state as WithProviderError)[PROVIDER_ERROR] = err;
  };
  provider.on('grant.error', remember);
  provider.on('introspection.error', remember);
  provider.on('revocation.error', remember);
}

function providerErrorOf(ctx: Koa.Context): errors.OIDCProviderError | undefined {
  return (ctx.state as WithProviderError)[PROVIDER_ERROR];
}

function oidcOf(ctx: Koa.Context): KoaContextWithOIDC['oidc'] | undefined {
  return (ctx as unknown as Partial<KoaContextWithOIDC>).oidc;
}

/** The form parameters as oidc-provider reads them from an already parsed body. */
export type ParsedForm = Record<string, string | string[] | undefined>;

const silenced = Symbol.for('gatehouse.oidc-provider.parsed-body-notice');
/** How oidc-provider's one-time notice about a parsed body begins (quirk `parsed-body-notice`). */
export const PARSED_BODY_NOTICE = 'oidc-provider WARNING: already parsed request body detected';

/**
 * Hands the form Gatehouse already read to oidc-provider: once the request stream is consumed
 * its body parser (`lib/shared/selective_body.js`) takes `ctx.request.body` instead. Given the
 * form as its text (`application/x-www-form-urlencoded`), the library parses it once; given
 * parameters, it parses them after serializing them again. So the text when nothing was
 * changed (every request but a reuse-window refresh), the parameters otherwise.
 *
 * Quirk `parsed-body-notice`: the first time per process it takes that path it prints a
 * warning on stderr (meant for apps with a generic body parser in front, which Gatehouse has on
 * purpose: the endpoint policies read the form first). There is no option to turn it off, so
 * that one line, and only it, is dropped from `console.warn`; every other line passes.
 */
export function handOverParsedBody(ctx: Koa.Context, form: ParsedForm | string): void {
  silenceParsedBodyNotice();
  (ctx.request as Koa.Request & { body?: ParsedForm | string }).body = form;
}

function silenceParsedBodyNotice(): void {
  const target = console as Console & { [silenced]?: true };
  if (target[silenced]) return;
  const warn = target.warn.bind(target);
  target.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes(PARSED_BODY_NOTICE)) return;
    warn(...args);
  };
  target[silenced] = true;
}

/**
 * RFC 6749 §5.2: a grant type the client is not registered for is `unauthorized_client`.
 *
 * Quirk `grant-not-allowed-is-invalid_request`: oidc-provider answers it `invalid_request`, and
 * checks it right after client authentication with no hook in between. The answer must follow
 * client authentication (a caller without the client's credentials learns nothing about its
 * registration, and gets `invalid_client`), so it is corrected afterwards: when the library's
 * error was an `InvalidRequest` and the authenticated client's metadata does not allow the
 * grant type. Call after the token endpoint answered.
 */
export function answerDisallowedGrantAsUnauthorizedClient(ctx: Koa.Context): void {
  const oidc = oidcOf(ctx);
  const grantType = oidc?.params?.grant_type;
  if (
    !(providerErrorOf(ctx) instanceof errors.InvalidRequest) ||
    !oidc?.client ||
    typeof grantType !== 'string' ||
    oidc.client.grantTypeAllowed(grantType) ||
    typeof ctx.body !== 'object' ||
    ctx.body === null
  ) {
    return;
  }
  // Name the grant only when it is one Gatehouse knows: the parameter is caller input, and an
  // error_description must stay within RFC 6749 §5.2's NQSCHAR and never echo what was sent.
  const corrected = new errors.UnauthorizedClient(
    isGrantType(grantType)
      ? `the client is not registered for the ${grantType} grant`
      : 'the client is not registered for this grant type',
  );
  ctx.body = { error: corrected.error, error_description: corrected.error_description };
}

/**
 * Quirk `structured-tokens-refused`: oidc-provider refuses JWT access tokens at introspection
 * and revocation (`unsupported_token_type`), after authenticating the client and before any
 * hook (`allowedPolicy`, the adapter) sees the token. Returns the authenticated client's id when
 * that happened to this request, so Gatehouse answers for the JWT itself.
 */
export function refusedStructuredToken(ctx: Koa.Context): string | undefined {
  if (!(providerErrorOf(ctx) instanceof errors.UnsupportedTokenType)) return undefined;
  return oidcOf(ctx)?.client?.clientId;
}

type UserCodeInputSource = NonNullable<
  NonNullable<NonNullable<Configuration['features']>['deviceFlow']>['userCodeInputSource']
>;

/**
 * Quirk `device-error-page-unsaved-session`: oidc-provider renders the device code page after
 * an error (expired or forged form, an unknown `/device/:uid`) with a fresh xsrf secret in a
 * session that was never saved, then fails with a 500 trying to `persist()` it. Saving such a
 * session first, the way its session middleware would, lets the page render and its form be
 * resubmitted. `ttlOf` is the session lifetime the provider is configured with.
 */
export function persistingSession(
  render: UserCodeInputSource,
  sessionCookie: object,
  ttlOf: (session: { accountId?: unknown }) => number,
): UserCodeInputSource {
  return async (ctx, form, out, err) => {
    const session = ctx.oidc.session as
      | {
          accountId?: unknown;
          exp?: unknown;
          touched?: boolean;
          destroyed?: boolean;
          id: string;
          save(ttl: number): Promise<unknown>;
        }
      | undefined;
    if (session && typeof session.exp !== 'number' && session.touched && !session.destroyed) {
      ctx.oidc.cookies.set(ctx.oidc.provider.cookieName('session'), session.id, sessionCookie);
      await session.save(ttlOf(session));
    }
    return render(ctx, form, out, err);
  };
}

/**
 * Seconds oidc-provider accepts a DPoP proof without a nonce whose `iat` is this far from its
 * clock, either way (`CHALLENGE_OK_WINDOW` in `lib/helpers/challenge.js`). A proof with a nonce
 * is accepted while the nonce is, which is less (3 to 4 minutes).
 */
export const DPOP_IAT_WINDOW = 300;

/**
 * RFC 9449 §11.1: a DPoP proof is accepted once. oidc-provider remembers proofs through
 * `provider.ReplayDetection.unique(iss, jti, exp)`, which every check calls (DPoP at the token
 * endpoint and at userinfo, and client assertions' `jti`).
 *
 * Quirk `replay-detection-check-then-act`: `unique` finds the record, then saves it: two requests
 * carrying one proof, on one instance or two, can both find nothing and both be accepted. This
 * replaces it, on the given provider instance, with one atomic claim in the store (Redis
 * `SET NX EX`, shared by every instance). The claim lives until `exp` plus {@link DPOP_IAT_WINDOW}:
 * oidc-provider passes `exp` = now + that window, but a proof whose `iat` lies up to that window
 * in the future stays acceptable that much longer, and a claim must outlive every moment its
 * proof could be presented. Attach to every provider instance (a key rotation builds a new one).
 */
export function detectReplayAtomically(provider: Provider, guard: ReplayGuard): void {
  const ReplayDetection = provider.ReplayDetection as {
    unique(iss: string, jti: string, exp: number): Promise<boolean>;
  };
  ReplayDetection.unique = async (iss, jti, exp) => {
    const now = Math.floor(Date.now() / 1000);
    return guard.claimOnce(replayClaimId(iss, jti), Math.max(0, exp - now) + DPOP_IAT_WINDOW);
  };
}

/**
 * The id a one-time `jti` of issuer `iss` (the client) is claimed under. Hashed, so neither a
 * client id nor a caller-chosen jti shapes the Redis key; the NUL keeps ("ab", "c") and
 * ("a", "bc") apart.
 */
export function replayClaimId(iss: string, jti: string): string {
  return createHash('sha256').update(`${iss}\0${jti}`).digest('base64url');
}

/**
 * RFC 9449 §10: a code requested with `dpop_jkt` is redeemed only with a proof of that key.
 *
 * Quirk `dpop-jkt-checked-after-consume`: oidc-provider checks that binding after it consumed the
 * code, so a redemption with another key, or without a proof, burns the code, and the rightful
 * client's redemption that follows counts as a code replay, which revokes the grant (the user's
 * other tokens for the client with it, as consent is remembered). Called before the token
 * endpoint runs, with the code's record (`dpopJkt` in its payload; the provider's own read of the
 * code is handed this one, see `tokens/grant-source-read-ahead.ts`): says whether the request must be
 * refused with `invalid_grant`, consuming nothing. Only a proof of another key, or none, is
 * refused here; whether the proof is valid is left to oidc-provider, which checks that before it
 * consumes anything.
 */
export async function codeBoundToAnotherKey(
  record: { readonly dpopJkt?: unknown } | undefined,
  proof: string | undefined,
): Promise<'missing DPoP proof JWT' | 'DPoP proof key thumbprint does not match dpop_jkt' | undefined> {
  if (typeof record?.dpopJkt !== 'string' || record.dpopJkt === '') return undefined;
  if (!proof) return 'missing DPoP proof JWT';
  let thumbprint: string;
  try {
    const { jwk } = decodeProtectedHeader(proof);
    if (!jwk) return undefined;
    thumbprint = await calculateJwkThumbprint(jwk);
  } catch {
    // Not a proof oidc-provider will accept either: it answers invalid_dpop_proof before consuming.
    return undefined;
  }
  return thumbprint === record.dpopJkt ? undefined : 'DPoP proof key thumbprint does not match dpop_jkt';
}
