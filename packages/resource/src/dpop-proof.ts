import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { type CryptoKey, calculateJwkThumbprint, errors, importJWK, type JWK, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import type { DpopReplayStore } from './dpop-replay.ts';
import {
  type AuthChallenge,
  InvalidDpopProofError,
  TemporarilyUnavailableError,
  UseDpopNonceError,
} from './errors.ts';

/**
 * Stateless resource-server nonces (RFC 9449 §9): an HMAC of the current time window, so every
 * instance of the API sharing `secret` issues and accepts the same nonces without shared state.
 *
 * @example
 * ```ts
 * const dpopNonce: DpopNonceOptions = { secret: process.env.DPOP_NONCE_SECRET ?? '', lifetime: 300 };
 * ```
 */
export interface DpopNonceOptions {
  /** At least 32 bytes (or characters) of secret shared by the API's instances. */
  secret: string | Uint8Array;
  /** Seconds a nonce window lasts; a nonce is accepted in its window and the next one. @default 300 */
  lifetime?: number;
}

/** What one request brings for its DPoP proof to be checked against. */
export interface DpopProofInput {
  /** Every `DPoP` header value of the request (RFC 9449 §4.3: exactly one is required). */
  proofs: readonly string[];
  method: string;
  /** The request URL as the client addressed it (query and fragment are ignored). */
  url: URL;
  accessToken: string;
  /** `cnf.jkt` of the access token. */
  jkt: string;
  challenge: AuthChallenge;
  nowSeconds: number;
}

interface ProofKey {
  key: CryptoKey;
  jkt: string;
}

// RFC 7518 §6: private members of an EC/OKP/RSA JWK, which a proof's public key must not carry.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_PROOF_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;

/** RFC 9449 §4.3 / RFC 3986 §6.2: scheme, host and path, normalised by the WHATWG URL parser, without query and fragment. */
function htuOf(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** A base64url SHA-256 (the `ath` of an access token, RFC 9449 §4.2). */
function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * Checks DPoP proofs (RFC 9449 §4.3) for the verifier: one per request, so the imported public keys
 * (by protected header) are what is cached, not the verdicts.
 */
export function createDpopProofChecker(options: {
  algorithms: readonly string[];
  window: number;
  replayStore: DpopReplayStore;
  nonce: DpopNonceOptions | undefined;
  retryAfter: number;
}) {
  const { algorithms, window, replayStore, retryAfter } = options;
  const allowed = new Set(algorithms);
  // Keyed by the protected header segment: a client signs every proof with one header (typ, alg, jwk),
  // so a hit skips parsing, importing and thumbprinting the key.
  const keys = new LRUCache<string, ProofKey>({ max: 1_000 });

  const nonces = options.nonce && nonceIssuer(options.nonce);

  const importProofKey = async (headerSegment: string, fail: (why: string) => Error): Promise<ProofKey> => {
    const cached = keys.get(headerSegment);
    if (cached) return cached;
    let header: unknown;
    try {
      header = JSON.parse(Buffer.from(headerSegment, 'base64url').toString('utf8'));
    } catch {
      throw fail('malformed DPoP proof');
    }
    if (typeof header !== 'object' || header === null) throw fail('malformed DPoP proof');
    const { typ, alg, jwk } = header as { typ?: unknown; alg?: unknown; jwk?: unknown };
    if (typ !== 'dpop+jwt') throw fail('DPoP proof typ must be dpop+jwt');
    if (typeof alg !== 'string' || !allowed.has(alg)) throw fail('DPoP proof algorithm not allowed');
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw fail('DPoP proof has no jwk');
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) throw fail('DPoP proof jwk contains a private key');
    let proofKey: ProofKey;
    try {
      const publicJwk = jwk as JWK;
      const key = await importJWK(publicJwk, alg);
      if (key instanceof Uint8Array) throw fail('DPoP proof jwk is not an asymmetric key');
      proofKey = { key, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
    } catch (err) {
      if (err instanceof InvalidDpopProofError) throw err;
      throw fail('DPoP proof jwk is not a usable public key');
    }
    keys.set(headerSegment, proofKey);
    return proofKey;
  };

  return {
    /** The nonce clients should use now, when nonces are on. */
    currentNonce: (nowSeconds: number) => nonces?.current(nowSeconds),

    async check(input: DpopProofInput): Promise<void> {
      const { challenge, nowSeconds } = input;
      const fail = (why: string, cause?: unknown) =>
        new InvalidDpopProofError(challenge, why, cause === undefined ? undefined : { cause });
      // RFC 9449 §4.3 (1): exactly one DPoP header. Node joins repeated headers with ", ", which no JWS contains.
      if (input.proofs.length === 0) throw fail('DPoP proof missing');
      const [proof] = input.proofs;
      if (input.proofs.length > 1 || proof === undefined || proof.includes(',')) {
        throw fail('more than one DPoP proof');
      }
      if (proof.length > MAX_PROOF_LENGTH || !COMPACT_JWS.test(proof)) throw fail('malformed DPoP proof');
      const headerSegment = proof.slice(0, proof.indexOf('.'));
      const { key, jkt } = await importProofKey(headerSegment, fail);

      // RFC 9449 §4.3 (4)-(6): typ, alg allow-list (again, by jose) and the signature by the embedded key.
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(proof, key, {
          typ: 'dpop+jwt',
          algorithms: [...algorithms],
          requiredClaims: ['jti', 'htm', 'htu', 'iat'],
          currentDate: new Date(nowSeconds * 1000),
          clockTolerance: window,
        }));
      } catch (err) {
        if (err instanceof errors.JWSSignatureVerificationFailed)
          throw fail('DPoP proof signature invalid', err);
        if (err instanceof errors.JWTClaimValidationFailed && err.reason === 'missing')
          throw fail(`DPoP proof has no ${err.claim} claim`, err);
        throw fail('invalid DPoP proof', err);
      }
      const { jti, htm, htu, iat, ath, nonce } = payload;

      // RFC 9449 §4.3 (8)-(9): made for this method and this URL.
      if (htm !== input.method) throw fail('DPoP proof htm does not match the request method');
      let proofUrl: URL | undefined;
      try {
        proofUrl = typeof htu === 'string' ? new URL(htu) : undefined;
      } catch {}
      if (proofUrl === undefined || htuOf(proofUrl) !== htuOf(input.url))
        throw fail('DPoP proof htu does not match the request URL');

      // RFC 9449 §4.3 (11): recent. The window is symmetric: clocks of clients drift both ways.
      if (typeof iat !== 'number' || Math.abs(nowSeconds - iat) > window)
        throw fail('DPoP proof iat outside the accepted window');
      if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH)
        throw fail('invalid DPoP proof jti');

      // RFC 9449 §4.3 (12)-(13) and §7.1: bound to this access token and to the key the token names.
      if (typeof ath !== 'string' || ath !== sha256(input.accessToken))
        throw fail('DPoP proof ath does not match the access token');
      if (jkt !== input.jkt) throw fail('DPoP proof key does not match the token binding (cnf.jkt)');

      // RFC 9449 §9 (10): a nonce of ours, when the API asks for them.
      if (nonces && (typeof nonce !== 'string' || !nonces.accepts(nonce, nowSeconds))) {
        throw new UseDpopNonceError(
          challenge,
          nonces.current(nowSeconds),
          nonce === undefined ? 'DPoP proof requires a nonce' : 'DPoP nonce expired or invalid',
        );
      }

      // RFC 9449 §11.1: single use, remembered as long as the proof could still be accepted. Last, so a
      // proof refused for another reason is not consumed.
      let first: boolean;
      try {
        first = await replayStore.markUsed(sha256(`${jkt}:${jti}`), iat + window - nowSeconds + 1);
      } catch (err) {
        throw new TemporarilyUnavailableError(challenge, retryAfter, 'DPoP replay check unavailable', {
          cause: err,
        });
      }
      if (!first) throw fail('DPoP proof replayed');
    },
  };
}

function nonceIssuer(options: DpopNonceOptions) {
  const lifetime = options.lifetime ?? 300;
  if (!(lifetime > 0)) throw new TypeError('dpopNonce.lifetime must be a positive number of seconds');
  const secret = typeof options.secret === 'string' ? Buffer.from(options.secret) : options.secret;
  if (secret.length < 32) throw new TypeError('dpopNonce.secret must have at least 32 bytes');
  const forWindow = (index: number) =>
    createHmac('sha256', secret).update(`gatehouse-dpop-nonce:${index}`).digest('base64url');
  const windowOf = (nowSeconds: number) => Math.floor(nowSeconds / lifetime);
  const same = (a: string, b: string) =>
    a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  return {
    current: (nowSeconds: number) => forWindow(windowOf(nowSeconds)),
    accepts(nonce: string, nowSeconds: number) {
      const index = windowOf(nowSeconds);
      return same(nonce, forWindow(index)) || same(nonce, forWindow(index - 1));
    },
  };
}
