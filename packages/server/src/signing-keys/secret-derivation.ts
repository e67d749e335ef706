import { hkdfSync } from 'node:crypto';

// Every key derived from GATEHOUSE_SECRET gets its own HKDF `info` label (RFC 5869 §3.2),
// so a cookie key can never equal the key that encrypts the signing keys, and adding a
// new use later cannot weaken the existing ones.
const SALT = 'gatehouse/v1';
const KEY_ENCRYPTION_INFO = 'gatehouse signing-key encryption (AES-256-GCM)';
const COOKIE_KEYS_INFO = 'gatehouse cookie signing keys';
const DPOP_NONCE_INFO = 'gatehouse DPoP nonce secret';

function derive(secret: string, info: string, bytes: number): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, SALT, info, bytes));
}

/**
 * The AES-256 key that encrypts the signing keys at rest, derived from `GATEHOUSE_SECRET`
 * with HKDF-SHA256.
 *
 * @example
 * const kek = deriveKeyEncryptionKey(config.secret); // 32 bytes
 */
export function deriveKeyEncryptionKey(secret: string): Buffer {
  return derive(secret, KEY_ENCRYPTION_INFO, 32);
}

/**
 * Keys for signed cookies (Koa `app.keys` / oidc-provider `cookies.keys`), derived from
 * `GATEHOUSE_SECRET` with HKDF-SHA256 under a label of their own. Every instance with the
 * same secret derives the same keys, so sessions survive restarts and load balancing.
 *
 * @example
 * const provider = new Provider(issuer, { cookies: { keys: deriveCookieKeys(secret) } });
 */
export function deriveCookieKeys(secret: string): string[] {
  return [derive(secret, COOKIE_KEYS_INFO, 32).toString('base64url')];
}

/**
 * The secret DPoP nonces (RFC 9449 §8) are computed from (oidc-provider's
 * `features.dPoP.nonceSecret`, 32 bytes), derived from `GATEHOUSE_SECRET` with HKDF-SHA256 under a
 * label of its own. A nonce is a function of this secret and the minute, nothing is stored: every
 * instance with the same secret issues and accepts the same nonces.
 *
 * @example
 * const provider = new Provider(issuer, { features: { dPoP: { nonceSecret: deriveDpopNonceSecret(secret) } } });
 */
export function deriveDpopNonceSecret(secret: string): Buffer {
  return derive(secret, DPOP_NONCE_INFO, 32);
}
