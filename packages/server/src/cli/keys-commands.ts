import type { Config } from '../config/config.ts';
import { ID_TOKEN_TTL } from '../oidc-provider/configuration.ts';
import type { KeyRepository } from '../signing-keys/key-repository.ts';
import { listKeys } from '../signing-keys/list-keys.ts';
import { rotateSigningKey } from '../signing-keys/signing-key-lifecycle.ts';
import { ID_TOKEN_DEFAULT_ALGORITHM, type SigningAlgorithm } from '../signing-keys/signing-key-record.ts';
import { DEFAULT_KEY_POLL_SECONDS } from '../signing-keys/signing-key-watcher.ts';
import { CliError } from './cli-error.ts';
import { formatTable, isoTime } from './format-table.ts';

/** The longest-lived token the signing keys sign: how long a superseded key stays published. */
export function longestSignedTokenTTL(config: Config): number {
  return Math.max(config.longestAccessTokenTTL, ID_TOKEN_TTL);
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
 * `gatehouse keys list`: every stored key (a generation's main and RS256 key), its state and
 * dates; never private material.
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
  // One row per key, so every kid of the JWKS (or of a token header) is found here; a
  // generation's RS256 key shares its dates.
  return formatTable([
    ['KID', 'ALG', 'STATE', 'PUBLISHED', 'SIGNS FROM', 'RETIRES'],
    ...keys.flatMap((key) => {
      const dates = [
        key.state,
        isoTime(key.publishAt),
        isoTime(key.activateAt),
        key.retireAt === undefined ? '-' : isoTime(key.retireAt),
      ];
      return [
        [key.kid, key.alg, ...dates],
        ...(key.rsaKid === undefined ? [] : [[key.rsaKid, ID_TOKEN_DEFAULT_ALGORITHM, ...dates]]),
      ];
    }),
  ]);
}

/**
 * `gatehouse keys rotate`: adds a generation of keys (the main key and an RS256 key for ID
 * tokens) that is published now and signs once every instance has picked it up and every
 * cached JWKS has expired (`JWKS_MAX_AGE` + the key poll interval); the current keys stay
 * published until the tokens they signed expire.
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
    // Every instance publishes the key within one poll, then verifiers may cache for jwksMaxAge.
    jwksMaxAge: config.jwksMaxAge + DEFAULT_KEY_POLL_SECONDS,
    accessTokenTTL: longestSignedTokenTTL(config),
    ...(options.alg === undefined ? {} : { alg: options.alg }),
  });
  const lines = [
    `added ${added.alg} key ${added.kid}: published now, signs from ${isoTime(added.activateAt)}`,
    ...(added.rsa === undefined
      ? []
      : [
          `added ${ID_TOKEN_DEFAULT_ALGORITHM} key ${added.rsa.kid} (ID tokens): published now, signs from ${isoTime(added.activateAt)}`,
        ]),
  ];
  for (const record of records) {
    if (record !== added && record.retireAt !== undefined && record.retireAt > options.now) {
      lines.push(`key ${record.kid} stays published until ${isoTime(record.retireAt)}`);
    }
  }
  const other = records.find((record) => record !== added && record.alg !== added.alg);
  if (other !== undefined) {
    // oidc-provider signs with the first key *of the requested algorithm*: a client that pinned
    // id_token_signed_response_alg to the old one keeps using the old key, then has none.
    lines.push(
      `note: clients that set id_token_signed_response_alg ${other.alg} get no ${other.alg} key once ${other.kid} retires`,
    );
  }
  return lines.join('\n');
}
