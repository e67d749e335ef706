import {
  constants,
  createHash,
  createHmac,
  verify as cryptoVerify,
  KeyObject,
  timingSafeEqual,
  type VerifyKeyObjectInput,
  type webcrypto,
} from 'node:crypto';
import { calculateJwkThumbprint, importJWK, type JWK } from 'jose';
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
  /** The request's `htu`: the URL the client addressed, as {@link htuOf} writes it. */
  htu: string;
  /** `ath` the proof must carry: the base64url SHA-256 of the access token (RFC 9449 §4.2). */
  ath: string;
  /** `cnf.jkt` of the access token. */
  jkt: string;
  challenge: AuthChallenge;
  nowSeconds: number;
}

interface ProofKey {
  /** Checks the JWS signature over `header.payload` (RFC 7515 §5.2). */
  verify(signingInput: Buffer, signature: Buffer): boolean;
  jkt: string;
}

/**
 * How node:crypto verifies each JWS algorithm (RFC 7518 §3): digest and key options. jose 6 verifies through
 * WebCrypto, whose async job costs about one more signature check in CPU per call; a proof is verified on
 * every request, so the one synchronous crypto.verify is used here, on a key jose imported and checked.
 */
const VERIFY_PARAMS: Record<string, { hash: string | null; options: Omit<VerifyKeyObjectInput, 'key'> }> = {
  // RFC 7518 §3.4: ECDSA signatures are R || S.
  ES256: { hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  ES384: { hash: 'sha384', options: { dsaEncoding: 'ieee-p1363' } },
  ES512: { hash: 'sha512', options: { dsaEncoding: 'ieee-p1363' } },
  EdDSA: { hash: null, options: {} },
  Ed25519: { hash: null, options: {} },
  RS256: { hash: 'sha256', options: { padding: constants.RSA_PKCS1_PADDING } },
  RS384: { hash: 'sha384', options: { padding: constants.RSA_PKCS1_PADDING } },
  RS512: { hash: 'sha512', options: { padding: constants.RSA_PKCS1_PADDING } },
  // RFC 7518 §3.5: the salt is as long as the digest.
  PS256: { hash: 'sha256', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
  PS384: { hash: 'sha384', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 } },
  PS512: { hash: 'sha512', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 } },
};

// RFC 7518 §6: private members of an EC/OKP/RSA JWK, which a proof's public key must not carry.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const MAX_PROOF_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;

/** RFC 9449 §4.3 / RFC 3986 §6.2: scheme, host and path, normalised by the WHATWG URL parser, without query and fragment. */
export function htuOf(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** A base64url SHA-256 (the `ath` of an access token, RFC 9449 §4.2). */
export function sha256(value: string): string {
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
    if (!BASE64URL.test(headerSegment)) throw fail('malformed DPoP proof');
    let header: unknown;
    try {
      header = JSON.parse(Buffer.from(headerSegment, 'base64url').toString('utf8'));
    } catch {
      throw fail('malformed DPoP proof');
    }
    if (typeof header !== 'object' || header === null) throw fail('malformed DPoP proof');
    const { typ, alg, jwk, crit } = header as { typ?: unknown; alg?: unknown; jwk?: unknown; crit?: unknown };
    // RFC 9449 §4.3 (4)-(5): the explicit type, and an allowed asymmetric algorithm.
    if (typ !== 'dpop+jwt') throw fail('DPoP proof typ must be dpop+jwt');
    const params = typeof alg === 'string' && allowed.has(alg) ? VERIFY_PARAMS[alg] : undefined;
    if (params === undefined) throw fail('DPoP proof algorithm not allowed');
    // RFC 7515 §4.1.11: no extension is understood here, so any critical one is refused.
    if (crit !== undefined) throw fail('DPoP proof has unsupported critical header parameters');
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw fail('DPoP proof has no jwk');
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) throw fail('DPoP proof jwk contains a private key');
    let proofKey: ProofKey;
    try {
      const publicJwk = jwk as JWK;
      // jose checks the key suits the algorithm (kty, crv) as it imports it.
      const imported = await importJWK(publicJwk, String(alg));
      if (imported instanceof Uint8Array) throw fail('DPoP proof jwk is not an asymmetric key');
      const key = KeyObject.from(imported as webcrypto.CryptoKey);
      if (key.type !== 'public') throw fail('DPoP proof jwk is not a public key');
      // RFC 7518 §3.3/§3.5: RSA keys of at least 2048 bits (jose checks this when it verifies; we verify here).
      if (key.asymmetricKeyType?.startsWith('rsa') && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
        throw fail('DPoP proof RSA key is shorter than 2048 bits');
      }
      const { hash, options: verifyOptions } = params;
      const keyInput = { key, ...verifyOptions };
      proofKey = {
        verify: (signingInput, signature) => cryptoVerify(hash, signingInput, keyInput, signature),
        jkt: await calculateJwkThumbprint(publicJwk, 'sha256'),
      };
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
      // RFC 7515 §7.1: three segments. Only the header (on a key-cache miss) and the signature are checked for
      // base64url characters: any other change to the signed part fails the signature.
      const headerEnd = proof.indexOf('.');
      const signatureStart = proof.lastIndexOf('.');
      if (
        proof.length > MAX_PROOF_LENGTH ||
        headerEnd < 1 ||
        signatureStart === headerEnd ||
        proof.indexOf('.', headerEnd + 1) !== signatureStart ||
        !BASE64URL.test(proof.slice(signatureStart + 1))
      ) {
        throw fail('malformed DPoP proof');
      }
      const headerSegment = proof.slice(0, headerEnd);
      // A client's key is cached after its first proof: no await for it then.
      const { verify, jkt } = keys.get(headerSegment) ?? (await importProofKey(headerSegment, fail));
      // RFC 9449 §4.3 (13) and §7.1: the key the token is bound to; checked before the signature, so a
      // stranger's proof costs no signature check.
      if (jkt !== input.jkt) throw fail('DPoP proof key does not match the token binding (cnf.jkt)');

      // RFC 9449 §4.3 (6): the signature by the embedded key (typ and alg were checked with the header).
      let valid: boolean;
      try {
        valid = verify(
          Buffer.from(proof.slice(0, signatureStart)),
          Buffer.from(proof.slice(signatureStart + 1), 'base64url'),
        );
      } catch (err) {
        throw fail('DPoP proof signature invalid', err);
      }
      if (!valid) throw fail('DPoP proof signature invalid');
      let payload: unknown;
      try {
        payload = JSON.parse(
          Buffer.from(proof.slice(headerSegment.length + 1, signatureStart), 'base64url').toString('utf8'),
        );
      } catch {
        throw fail('malformed DPoP proof');
      }
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
        throw fail('malformed DPoP proof');
      // RFC 9449 §4.3 (3): the claims every proof carries.
      for (const claim of ['jti', 'htm', 'htu', 'iat'] as const) {
        if (!(claim in payload)) throw fail(`DPoP proof has no ${claim} claim`);
      }
      const { jti, htm, htu, iat, ath, nonce } = payload as Record<string, unknown>;

      // RFC 9449 §4.3 (8)-(9): made for this method and this URL.
      if (htm !== input.method) throw fail('DPoP proof htm does not match the request method');
      // A client that names the URL as the parser writes it (the usual case) is matched without parsing it:
      // the serialization of a parsed URL parses back to itself.
      const requestHtu = input.htu;
      if (htu !== requestHtu) {
        let proofUrl: URL | undefined;
        try {
          proofUrl = typeof htu === 'string' ? new URL(htu) : undefined;
        } catch {}
        if (proofUrl === undefined || htuOf(proofUrl) !== requestHtu)
          throw fail('DPoP proof htu does not match the request URL');
      }

      // RFC 9449 §4.3 (11): recent. The window is symmetric: clocks of clients drift both ways.
      if (typeof iat !== 'number' || Math.abs(nowSeconds - iat) > window)
        throw fail('DPoP proof iat outside the accepted window');
      if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH)
        throw fail('invalid DPoP proof jti');

      // RFC 9449 §4.3 (12): made for this access token.
      if (typeof ath !== 'string' || ath !== input.ath)
        throw fail('DPoP proof ath does not match the access token');

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
        // 128 bits of a hash of key and jti: fixed-size keys, and one client cannot take another's jti.
        first = await replayStore.markUsed(
          sha256(`${jkt}:${jti}`).slice(0, 22),
          iat + window - nowSeconds + 1,
        );
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
  // The last two windows' nonces are kept: one HMAC per window instead of one per request.
  const recent = new Map<number, string>();
  const forWindow = (index: number) => {
    let nonce = recent.get(index);
    if (nonce === undefined) {
      nonce = createHmac('sha256', secret).update(`gatehouse-dpop-nonce:${index}`).digest('base64url');
      recent.set(index, nonce);
      for (const old of recent.keys()) if (old < index - 1) recent.delete(old);
    }
    return nonce;
  };
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
