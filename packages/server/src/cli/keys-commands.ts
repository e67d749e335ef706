import type { Config } from '../config.ts';
import type { KeyRepository } from '../keys/key-repository.ts';
import { listKeys } from '../keys/list-keys.ts';
import { rotateSigningKey } from '../keys/signing-key-lifecycle.ts';
import type { SigningAlgorithm } from '../keys/signing-key-record.ts';
import { CliError } from './cli-error.ts';
import { formatTable, isoTime } from './format-table.ts';

/**
 * Lifetime of ID tokens, which the signing keys sign too. Mirrors `ttl.IdToken` in
 * provider/configuration.ts; a retiring key must stay published until they expire as well.
 */
const ID_TOKEN_TTL = 3600;

/** The longest-lived token the signing keys sign: how long a superseded key stays published. */
export function longestSignedTokenTTL(config: Config): number {
  return Math.max(
    config.accessTokenTTL,
    ID_TOKEN_TTL,
    ...config.resources.map((resource) => resource.accessTokenTTL ?? 0),
  );
}

function requireSecret(config: Config): string {
  if (config.secret === undefined) {
    throw new CliError(
      'keys commands need GATEHOUSE_SECRET, the secret the server encrypts its signing keys with',
    );
  }
  return config.secret;
}

/**
 * `gatehouse keys list`: every stored key, its state and dates; never private material.
 *
 * @example
 * console.log(await keysList(store.keys, config, { json: false, now: epochSeconds() }));
 */
export async function keysList(
  repo: KeyRepository,
  config: Config,
  options: { json: boolean; now: number },
): Promise<string> {
  const keys = await listKeys(repo, requireSecret(config), options.now);
  if (options.json) return JSON.stringify(keys, null, 2);
  if (keys.length === 0) return 'no signing keys yet (the server creates the first one when it starts)';
  return formatTable([
    ['KID', 'ALG', 'STATE', 'PUBLISHED', 'SIGNS FROM', 'RETIRES'],
    ...keys.map((key) => [
      key.kid,
      key.alg,
      key.state,
      isoTime(key.publishAt),
      isoTime(key.activateAt),
      key.retireAt === undefined ? '-' : isoTime(key.retireAt),
    ]),
  ]);
}

/**
 * `gatehouse keys rotate`: adds a key that is published now and signs once every cached JWKS
 * has expired (`JWKS_MAX_AGE`); the current key stays published until its tokens expire.
 *
 * @example
 * console.log(await keysRotate(store.keys, config, { alg: undefined, now: epochSeconds() }));
 */
export async function keysRotate(
  repo: KeyRepository,
  config: Config,
  options: { alg: SigningAlgorithm | undefined; now: number },
): Promise<string> {
  const { added, records } = await rotateSigningKey(repo, requireSecret(config), {
    now: options.now,
    jwksMaxAge: config.jwksMaxAge,
    accessTokenTTL: longestSignedTokenTTL(config),
    ...(options.alg === undefined ? {} : { alg: options.alg }),
  });
  const lines = [
    `added ${added.alg} key ${added.kid}: published now, signs from ${isoTime(added.activateAt)}`,
  ];
  for (const record of records) {
    if (record !== added && record.retireAt !== undefined && record.retireAt > options.now) {
      lines.push(`key ${record.kid} stays published until ${isoTime(record.retireAt)}`);
    }
  }
  return lines.join('\n');
}
