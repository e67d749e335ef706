export { SIGNING_KEYS_REDIS_KEY } from '../store/keys.ts';
export {
  generateRsaSigningKey,
  generateSigningKey,
  RSA_MODULUS_LENGTH,
  type SigningKeySchedule,
} from './generate-signing-key.ts';
export { decryptKeyRecords, encryptKeyRecords } from './key-encryption.ts';
export { type KeyRepository, MemoryKeyRepository } from './key-repository.ts';
export { activeKeyAt, isPublishedAt, type KeySet, keySetAt } from './key-set.ts';
export { listKeys, type SigningKeyState, type SigningKeySummary } from './list-keys.ts';
export { RedisKeyRepository } from './redis-key-repository.ts';
export { deriveCookieKeys, deriveDpopNonceSecret, deriveKeyEncryptionKey } from './secret-derivation.ts';
export { SigningKeyError, type SigningKeyErrorCode } from './signing-key-error.ts';
export {
  ensureSigningKeys,
  lacksRsaKey,
  loadKeys,
  type RotationOptions,
  type RotationResult,
  rotateSigningKey,
} from './signing-key-lifecycle.ts';
export {
  epochSeconds,
  ID_TOKEN_DEFAULT_ALGORITHM,
  type PublishedAlgorithm,
  type RsaSigningKey,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
  type SigningKeyRecord,
} from './signing-key-record.ts';
export { type ActiveKeySet, DEFAULT_KEY_POLL_SECONDS, SigningKeyWatcher } from './signing-key-watcher.ts';
