import { KeyObject, verify as verifySignature } from 'node:crypto';
import {
  errors,
  type JSONWebKeySet,
  type JWKSCacheInput,
  type JWSHeaderParameters,
  type JWTPayload,
} from 'jose';

/**
 * The algorithms whose signatures {@link verifyNodeJws} checks with node:crypto's synchronous
 * `verify`, with the key type each requires. jose checks through WebCrypto, whose asynchronous job
 * costs about half a signature check again per token; every other algorithm stays with jose.
 */
const NODE_ALGORITHMS: Readonly<Record<string, NodeAlgorithm>> = {
  ES256: { digest: 'sha256', keyType: 'ec', curve: 'prime256v1' },
  EdDSA: { digest: null, keyType: 'ed25519' },
  Ed25519: { digest: null, keyType: 'ed25519' },
};

interface NodeAlgorithm {
  readonly digest: string | null;
  readonly keyType: string;
  readonly curve?: string;
}

/** A compact JWS whose signature node:crypto checks: its parsed protected header and where its parts are. */
export interface NodeJws {
  readonly token: string;
  readonly header: Readonly<JWSHeaderParameters>;
  readonly alg: string;
  readonly kid: string | undefined;
  /** Index of the first and of the second `.` in `token`. */
  readonly firstDot: number;
  readonly secondDot: number;
}

interface ParsedHeader {
  readonly header: Readonly<JWSHeaderParameters>;
  readonly alg: string;
  readonly kid: string | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeJson(segment: string): unknown {
  return JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')));
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Protected headers already parsed, by their encoding. Every token of an issuer's key carries the same
 * header bytes, so an uncached verification skips one base64url decode and one JSON.parse; the header is
 * a pure function of its encoding. Bounded: emptied when full, since a header is cheap to parse again.
 */
const HEADERS_MAX = 64;

/**
 * Splits and parses compact JWSs for {@link verifyNodeJws}, remembering the protected headers it has
 * parsed (see {@link HEADERS_MAX}). One per verifier, since what it accepts depends on the allow-list.
 */
export class NodeJwsParser {
  readonly #algorithms: ReadonlySet<string>;
  readonly #headers = new Map<string, ParsedHeader>();

  constructor(algorithms: readonly string[]) {
    this.#algorithms = new Set(algorithms.filter((alg) => NODE_ALGORITHMS[alg] !== undefined));
  }

  /**
   * The token as a {@link NodeJws} when node:crypto can check it: its algorithm is allowed and in
   * {@link NODE_ALGORITHMS}, and its header needs nothing more (no `crit`, no `b64`). `undefined` hands
   * the token to jose's own `jwtVerify`, which gives every other verdict. `token` is already checked to
   * be three base64url segments.
   */
  parse(token: string): NodeJws | undefined {
    const firstDot = token.indexOf('.');
    const secondDot = token.indexOf('.', firstDot + 1);
    const encodedHeader = token.slice(0, firstDot);
    let parsed = this.#headers.get(encodedHeader);
    if (parsed === undefined) {
      parsed = this.#parseHeader(encodedHeader);
      if (parsed === undefined) return undefined;
      if (this.#headers.size >= HEADERS_MAX) this.#headers.clear();
      this.#headers.set(encodedHeader, parsed);
    }
    return { token, header: parsed.header, alg: parsed.alg, kid: parsed.kid, firstDot, secondDot };
  }

  #parseHeader(encoded: string): ParsedHeader | undefined {
    let header: unknown;
    try {
      header = decodeJson(encoded);
    } catch {
      return undefined;
    }
    if (!isObject(header) || header.crit !== undefined || header.b64 !== undefined) return undefined;
    const { alg, kid } = header;
    if (typeof alg !== 'string' || !this.#algorithms.has(alg)) return undefined;
    // Frozen: one parsed header is shared by every token that carries it.
    return {
      header: Object.freeze(header) as JWSHeaderParameters,
      alg,
      kid: typeof kid === 'string' ? kid : undefined,
    };
  }
}

/**
 * The key jose's key set resolved for `alg` (a CryptoKey on Node), as a node:crypto KeyObject, if it is
 * the public key of the type `alg` requires; `undefined` leaves the token to jose.
 */
export function nodeVerificationKey(alg: string, key: unknown): KeyObject | undefined {
  const spec = NODE_ALGORITHMS[alg];
  let keyObject: KeyObject;
  if (key instanceof KeyObject) keyObject = key;
  else if (typeof key === 'object' && key !== null && key instanceof CryptoKey)
    keyObject = KeyObject.from(key);
  else return undefined;
  if (
    spec === undefined ||
    keyObject.type !== 'public' ||
    keyObject.asymmetricKeyType !== spec.keyType ||
    (spec.curve !== undefined && keyObject.asymmetricKeyDetails?.namedCurve !== spec.curve)
  ) {
    return undefined;
  }
  return keyObject;
}

/**
 * Verification keys by algorithm and `kid`, as jose's remote key set resolved them, kept only while that
 * key set is the one jose would answer from: the same fetched JWKS (`state`, which jose replaces on every
 * successful fetch) within its `maxAge`. A miss goes back through jose, which refetches, rotates and
 * answers its own verdicts (no matching key, several matching keys); only keys jose returned are kept,
 * so their number is bounded by the JWKS.
 */
export class NodeKeyCache {
  readonly #state: JWKSCacheInput;
  readonly #maxAge: number;
  #jwks: JSONWebKeySet | undefined;
  readonly #keys = new Map<string, KeyObject>();

  /** `state` is the object passed to jose's `createRemoteJWKSet` as `[jwksCache]`. */
  constructor(state: JWKSCacheInput, maxAge: number) {
    this.#state = state;
    this.#maxAge = maxAge;
  }

  /** The JWKS jose answers from now, if it is fresh (jose refetches a stale one before answering). */
  current(): JSONWebKeySet | undefined {
    const { jwks, uat } = this.#state;
    // The same test as jose's own freshness check, on the same clock.
    return jwks !== undefined && uat !== undefined && Date.now() < uat + this.#maxAge ? jwks : undefined;
  }

  get(alg: string, kid: string | undefined): KeyObject | undefined {
    const jwks = this.current();
    if (jwks === undefined || jwks !== this.#jwks) return undefined;
    return this.#keys.get(kid === undefined ? alg : `${alg} ${kid}`);
  }

  /** Keeps `key`, resolved by jose from `jwks` (the {@link current} set before and after resolving). */
  set(alg: string, kid: string | undefined, key: KeyObject, jwks: JSONWebKeySet): void {
    if (jwks !== this.#jwks) {
      this.#keys.clear();
      this.#jwks = jwks;
    }
    this.#keys.set(kid === undefined ? alg : `${alg} ${kid}`, key);
  }
}

/**
 * Checks the signature of `jws` with `key` (from {@link nodeVerificationKey} for its algorithm) and
 * returns its claims, with jose's errors for jose's verdicts.
 */
export function verifyNodeJws(jws: NodeJws, key: KeyObject): JWTPayload {
  const { token, firstDot, secondDot } = jws;
  const spec = NODE_ALGORITHMS[jws.alg]!;
  let valid = false;
  try {
    valid = verifySignature(
      spec.digest,
      // The token is ASCII (three base64url segments): latin1 is its bytes, without a UTF-8 encoder.
      Buffer.from(token.slice(0, secondDot), 'latin1'),
      // RFC 7518 §3.4: JWS ECDSA signatures are R || S, not DER.
      { key, dsaEncoding: 'ieee-p1363' },
      Buffer.from(token.slice(secondDot + 1), 'base64url'),
    );
  } catch {}
  if (!valid) throw new errors.JWSSignatureVerificationFailed();
  let payload: unknown;
  try {
    payload = decodeJson(token.slice(firstDot + 1, secondDot));
  } catch (cause) {
    throw new errors.JWTInvalid('JWT Claims Set must be a top-level JSON object', { cause });
  }
  if (!isObject(payload)) throw new errors.JWTInvalid('JWT Claims Set must be a top-level JSON object');
  return payload as JWTPayload;
}

const normalizeTyp = (value: string) => {
  const lower = value.toLowerCase();
  return value.includes('/') ? lower : `application/${lower}`;
};

/** What {@link validateClaims} checks against; build it once with {@link claimChecks}. */
export interface ClaimChecks {
  readonly issuer: string;
  readonly audience: string;
  /** `typ` as jose compares it (`application/` prefixed, lower case). */
  readonly typ: string;
  /** Required claims in the order jose reports the first one missing. */
  readonly required: readonly string[];
  readonly clockTolerance: number;
}

/** The checks of {@link validateClaims}, from the options jose's `jwtVerify` takes. */
export function claimChecks(options: {
  issuer: string;
  audience: string;
  typ: string;
  requiredClaims: readonly string[];
  clockTolerance: number;
}): ClaimChecks {
  return Object.freeze({
    issuer: options.issuer,
    audience: options.audience,
    typ: normalizeTyp(options.typ),
    required: Object.freeze([...new Set([...options.requiredClaims, 'aud', 'iss'].reverse())]),
    clockTolerance: options.clockTolerance,
  });
}

const claimFailed = (payload: JWTPayload, message: string, claim: string, reason: string) =>
  new errors.JWTClaimValidationFailed(message, payload, claim, reason);

function numericClaim(payload: JWTPayload, claim: 'iat' | 'nbf' | 'exp'): number | undefined {
  const value = payload[claim];
  if (value !== undefined && typeof value !== 'number')
    throw claimFailed(payload, `"${claim}" claim must be a number`, claim, 'invalid');
  return value;
}

/**
 * The claim checks jose's `jwtVerify` makes after the signature, in jose's order and with jose's
 * errors (so one error mapping serves both paths): `typ`, required claims, exact `iss`, `aud`
 * containing ours, numeric `iat`, `nbf` and `exp` within the clock tolerance.
 */
export function validateClaims(
  header: Readonly<JWSHeaderParameters>,
  payload: JWTPayload,
  checks: ClaimChecks,
  nowSeconds: number,
): void {
  if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== checks.typ) {
    throw claimFailed(payload, 'unexpected "typ" JWT header value', 'typ', 'check_failed');
  }
  for (const claim of checks.required) {
    if (!Object.hasOwn(payload, claim))
      throw claimFailed(payload, `missing required "${claim}" claim`, claim, 'missing');
  }
  if (payload.iss !== checks.issuer)
    throw claimFailed(payload, 'unexpected "iss" claim value', 'iss', 'check_failed');
  const { aud } = payload;
  if (
    !(typeof aud === 'string' ? aud === checks.audience : Array.isArray(aud) && aud.includes(checks.audience))
  ) {
    throw claimFailed(payload, 'unexpected "aud" claim value', 'aud', 'check_failed');
  }
  const tolerance = checks.clockTolerance;
  numericClaim(payload, 'iat');
  const nbf = numericClaim(payload, 'nbf');
  if (nbf !== undefined && nbf > nowSeconds + tolerance)
    throw claimFailed(payload, '"nbf" claim timestamp check failed', 'nbf', 'check_failed');
  const exp = numericClaim(payload, 'exp');
  if (exp !== undefined && exp <= nowSeconds - tolerance) {
    throw new errors.JWTExpired('"exp" claim timestamp check failed', payload, 'exp', 'check_failed');
  }
}
