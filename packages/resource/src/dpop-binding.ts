import type { DpopNonceOptions } from './dpop-proof.ts';
import { createDpopProofChecker, htuOf, sha256 } from './dpop-proof.ts';
import { type DpopReplayStore, memoryDpopReplayStore } from './dpop-replay.ts';
import { type AuthChallenge, type DpopMode, InvalidDpopProofError, InvalidTokenError } from './errors.ts';
import type { AccessTokenAlgorithm, VerifiedAccessToken } from './verifier.ts';

/**
 * The DPoP options of {@link createAccessTokenVerifier} (RFC 9449).
 *
 * @example
 * ```ts
 * const options: DpopVerifierOptions = { dpop: 'required', dpopPublicOrigin: 'https://api.example.com' };
 * ```
 */
export interface DpopVerifierOptions {
  /**
   * DPoP (RFC 9449): `'allowed'` accepts unbound tokens as `Bearer` and DPoP-bound tokens (`cnf.jkt`)
   * only as `DPoP` with a valid proof; `'required'` accepts only DPoP-bound tokens with a proof; `'off'`
   * accepts only `Bearer` (bound tokens are then refused: a bound token is never a bearer token).
   * @default 'allowed'
   * @see https://www.rfc-editor.org/rfc/rfc9449#section-7
   */
  dpop?: DpopMode;
  /** Accepted proof algorithms, listed in the `algs` of DPoP challenges. @default ['ES256', 'EdDSA'] */
  dpopAlgorithms?: readonly AccessTokenAlgorithm[];
  /** Seconds a proof's `iat` may differ from now, either way (RFC 9449 §4.3 step 11). @default 60 */
  dpopProofWindow?: number;
  /**
   * Where proof `jti`s are remembered (single use, RFC 9449 §11.1). Pass {@link redisDpopReplayStore} when
   * several instances serve the API. @default memoryDpopReplayStore()
   */
  dpopReplayStore?: DpopReplayStore;
  /** Require resource-server nonces in proofs (RFC 9449 §9); off when omitted. */
  dpopNonce?: DpopNonceOptions;
  /**
   * The origin clients address (e.g. `https://api.example.com`), for the proof's `htu`, when the API
   * sits behind a proxy that changes scheme or host. Without it the request's own URL is used (in Koa
   * `ctx.href`, which honours `X-Forwarded-*` only when `app.proxy` is set).
   */
  dpopPublicOrigin?: string;
}

/**
 * How the token came, for {@link AccessTokenVerifier.verify}: without it, as `Bearer`.
 *
 * @example
 * ```ts
 * const auth = await verifier.verify(token, {
 *   scheme: 'DPoP',
 *   dpop: req.headersDistinct.dpop,
 *   method: req.method ?? 'GET',
 *   url: `https://api.example.com${req.url}`,
 * });
 * ```
 */
export interface TokenPresentation {
  /** The `Authorization` scheme the token came with. */
  scheme: 'Bearer' | 'DPoP';
  /** The request's `DPoP` header value(s); `undefined` when there is none. */
  dpop?: string | readonly string[] | undefined;
  /** The request method, e.g. `GET`. Required with `DPoP`. */
  method?: string;
  /** The request URL as received (absolute). Required with `DPoP`; `dpopPublicOrigin` replaces its origin. */
  url?: string | URL;
}

/**
 * RFC 9449 §7 for the verifier: which presentations a token's binding allows, and the proof check of
 * DPoP ones. Validates the options once, at start.
 */
export function createDpopBinding(
  options: DpopVerifierOptions & { realm: string; retryAfter: number; asymmetric: ReadonlySet<string> },
) {
  const { realm } = options;
  const mode = options.dpop ?? 'allowed';
  if (mode !== 'allowed' && mode !== 'required' && mode !== 'off') {
    throw new TypeError(`dpop must be 'required', 'allowed' or 'off', got ${String(mode)}`);
  }
  const algorithms = [...(options.dpopAlgorithms ?? ['ES256', 'EdDSA'])];
  for (const alg of algorithms) {
    if (!options.asymmetric.has(alg))
      throw new TypeError(`DPoP algorithm ${alg} is not an allowed asymmetric algorithm`);
  }
  if (mode !== 'off' && algorithms.length === 0) throw new TypeError('dpopAlgorithms must not be empty');
  const publicOrigin = options.dpopPublicOrigin === undefined ? undefined : new URL(options.dpopPublicOrigin);
  // An http(s) origin: anything else has no origin (`null`) for a proof's htu to name.
  if (publicOrigin !== undefined && publicOrigin.origin === 'null')
    throw new TypeError(`dpopPublicOrigin must be an http or https origin, got ${options.dpopPublicOrigin}`);
  const challenge: AuthChallenge = Object.freeze({
    realm,
    dpop: mode,
    ...(mode === 'off' ? {} : { dpopAlgorithms: Object.freeze(algorithms) }),
  });
  const proofChecker =
    mode === 'off'
      ? undefined
      : createDpopProofChecker({
          algorithms,
          window: options.dpopProofWindow ?? 60,
          replayStore: options.dpopReplayStore ?? memoryDpopReplayStore(),
          nonce: options.dpopNonce,
          retryAfter: options.retryAfter,
        });

  // `ath` of each verified token, computed once per cached result rather than once per request.
  const tokenHashes = new WeakMap<VerifiedAccessToken, string>();
  const athOf = (result: VerifiedAccessToken, token: string) => {
    let ath = tokenHashes.get(result);
    if (ath === undefined) {
      ath = sha256(token);
      tokenHashes.set(result, ath);
    }
    return ath;
  };

  return {
    mode,
    challenge,
    currentNonce: (nowSeconds: number) => proofChecker?.currentNonce(nowSeconds),
    /**
     * Accepts the verified token as presented, or throws what the client must be told. A `Bearer`
     * presentation is judged at once (returns `undefined` or throws), a `DPoP` one by the returned
     * promise (its proof may need the replay store).
     */
    check(
      result: VerifiedAccessToken,
      token: string,
      presentation: TokenPresentation | undefined,
      nowSeconds: number,
    ): Promise<void> | undefined {
      const jkt = result.claims.cnf?.jkt;
      if ((presentation?.scheme ?? 'Bearer') === 'Bearer') {
        // RFC 9449 §7.2: a DPoP-bound token sent as a bearer token is refused, whatever the mode.
        if (jkt !== undefined && mode === 'off')
          throw new InvalidTokenError(realm, 'DPoP-bound tokens are not accepted here');
        if (jkt !== undefined) throw new InvalidDpopProofError(realm, 'DPoP-bound token sent as Bearer');
        if (mode === 'required') throw new InvalidDpopProofError(realm, 'this API requires DPoP');
        return;
      }
      if (proofChecker === undefined) throw new InvalidTokenError(realm, 'DPoP is not accepted here');
      if (jkt === undefined) throw new InvalidTokenError(realm, 'token is not DPoP-bound');
      const { method, url, dpop } = presentation ?? {};
      if (method === undefined || url === undefined) {
        throw new TypeError('verify() with scheme DPoP needs the request method and url');
      }
      const received = new URL(url);
      // Behind a proxy the client addressed the public origin (an origin as the parser writes it); the path
      // is the one received.
      const htu = publicOrigin ? `${publicOrigin.origin}${received.pathname}` : htuOf(received);
      return proofChecker.check({
        proofs: dpop === undefined ? [] : typeof dpop === 'string' ? [dpop] : dpop,
        method,
        htu,
        ath: athOf(result, token),
        jkt,
        challenge,
        nowSeconds,
      });
    },
  };
}
