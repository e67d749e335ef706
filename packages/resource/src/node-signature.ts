import { KeyObject, verify as verifySignature } from 'node:crypto';
import { errors, type FlattenedJWSInput, type JWSHeaderParameters, type JWTPayload } from 'jose';

/**
 * The algorithms whose signatures {@link verifyCompactJws} checks with node:crypto's synchronous
 * `verify`, with the key type each requires. jose checks through WebCrypto, whose asynchronous job
 * costs about half a signature check again per token; every other algorithm stays with jose.
 */
const NODE_ALGORITHMS: Readonly<Record<string, { digest: string | null; keyType: string; curve?: string }>> =
  {
    ES256: { digest: 'sha256', keyType: 'ec', curve: 'prime256v1' },
    EdDSA: { digest: null, keyType: 'ed25519' },
    Ed25519: { digest: null, keyType: 'ed25519' },
  };

const keyObjects = new WeakMap<object, KeyObject>();
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A key jose's key set resolved (a CryptoKey on Node), as a node:crypto KeyObject, converted once. */
function keyObject(key: unknown): KeyObject | undefined {
  if (key instanceof KeyObject) return key;
  if (typeof key !== 'object' || key === null || !(key instanceof CryptoKey)) return undefined;
  let converted = keyObjects.get(key);
  if (converted === undefined) {
    converted = KeyObject.from(key);
    keyObjects.set(key, converted);
  }
  return converted;
}

function decodeJson(segment: string): unknown {
  return JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')));
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Verifies the signature of a compact JWS (already checked to be three base64url segments) with
 * node:crypto when its algorithm is allowed and listed in {@link NODE_ALGORITHMS} and its header
 * needs nothing more (no `crit`, no `b64`). Returns the protected header and the claims, with
 * jose's errors for jose's verdicts; `undefined` hands the token to jose's own `jwtVerify`.
 */
export async function verifyCompactJws(
  token: string,
  algorithms: readonly string[],
  getKey: (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<unknown>,
): Promise<{ header: JWSHeaderParameters; payload: JWTPayload } | undefined> {
  const [encodedHeader = '', encodedPayload = '', encodedSignature = ''] = token.split('.');
  let header: unknown;
  try {
    header = decodeJson(encodedHeader);
  } catch {
    return undefined;
  }
  if (!isObject(header) || header.crit !== undefined || header.b64 !== undefined) return undefined;
  const { alg } = header;
  if (typeof alg !== 'string' || !algorithms.includes(alg)) return undefined;
  const spec = NODE_ALGORITHMS[alg];
  if (spec === undefined) return undefined;
  const key = keyObject(
    await getKey(header as JWSHeaderParameters, {
      protected: encodedHeader,
      payload: encodedPayload,
      signature: encodedSignature,
    }),
  );
  if (
    key === undefined ||
    key.type !== 'public' ||
    key.asymmetricKeyType !== spec.keyType ||
    (spec.curve !== undefined && key.asymmetricKeyDetails?.namedCurve !== spec.curve)
  ) {
    return undefined;
  }
  let valid = false;
  try {
    valid = verifySignature(
      spec.digest,
      Buffer.from(`${encodedHeader}.${encodedPayload}`),
      // RFC 7518 §3.4: JWS ECDSA signatures are R || S, not DER.
      { key, dsaEncoding: 'ieee-p1363' },
      Buffer.from(encodedSignature, 'base64url'),
    );
  } catch {}
  if (!valid) throw new errors.JWSSignatureVerificationFailed();
  let payload: unknown;
  try {
    payload = decodeJson(encodedPayload);
  } catch (cause) {
    throw new errors.JWTInvalid('JWT Claims Set must be a top-level JSON object', { cause });
  }
  if (!isObject(payload)) throw new errors.JWTInvalid('JWT Claims Set must be a top-level JSON object');
  return { header: header as JWSHeaderParameters, payload: payload as JWTPayload };
}

const normalizeTyp = (value: string) => {
  const lower = value.toLowerCase();
  return value.includes('/') ? lower : `application/${lower}`;
};

/**
 * The claim checks jose's `jwtVerify` makes after the signature, in jose's order and with jose's
 * errors (so one error mapping serves both paths): `typ`, required claims, exact `iss`, `aud`
 * containing ours, numeric `iat`, `nbf` and `exp` within the clock tolerance.
 */
export function validateClaims(
  header: JWSHeaderParameters,
  payload: JWTPayload,
  options: {
    issuer: string;
    audience: string;
    typ: string;
    requiredClaims: readonly string[];
    clockTolerance: number;
    currentDate: Date;
  },
): void {
  const failed = (message: string, claim: string, reason: string) =>
    new errors.JWTClaimValidationFailed(message, payload, claim, reason);
  if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== normalizeTyp(options.typ)) {
    throw failed('unexpected "typ" JWT header value', 'typ', 'check_failed');
  }
  for (const claim of new Set([...options.requiredClaims, 'aud', 'iss'].reverse())) {
    if (!Object.hasOwn(payload, claim)) throw failed(`missing required "${claim}" claim`, claim, 'missing');
  }
  if (payload.iss !== options.issuer) throw failed('unexpected "iss" claim value', 'iss', 'check_failed');
  const { aud } = payload;
  if (
    !(typeof aud === 'string'
      ? aud === options.audience
      : Array.isArray(aud) && aud.includes(options.audience))
  ) {
    throw failed('unexpected "aud" claim value', 'aud', 'check_failed');
  }
  const now = Math.floor(options.currentDate.getTime() / 1000);
  const tolerance = options.clockTolerance;
  const numeric = (claim: 'iat' | 'nbf' | 'exp') => {
    const value = payload[claim];
    if (value !== undefined && typeof value !== 'number')
      throw failed(`"${claim}" claim must be a number`, claim, 'invalid');
    return value;
  };
  numeric('iat');
  const nbf = numeric('nbf');
  if (nbf !== undefined && nbf > now + tolerance)
    throw failed('"nbf" claim timestamp check failed', 'nbf', 'check_failed');
  const exp = numeric('exp');
  if (exp !== undefined && exp <= now - tolerance) {
    throw new errors.JWTExpired('"exp" claim timestamp check failed', payload, 'exp', 'check_failed');
  }
}
