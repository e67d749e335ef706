import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Config } from './config.ts';

/** Where a development secret is kept between starts (git-ignored). */
export const DEV_SECRET_FILE = '.gatehouse/dev-secret';

/**
 * The system secret. Production requires `GATEHOUSE_SECRET` (config refuses to start without
 * it). In development with Redis, one is generated once and kept in `.gatehouse/dev-secret`
 * so stored signing keys stay readable across restarts; on the in-process store a fresh one
 * per process is enough, since everything it protects dies with the process too.
 */
export async function resolveSecret(config: Config, file = DEV_SECRET_FILE): Promise<string> {
  if (config.secret) return config.secret;
  if (config.redis.kind === 'memory') return randomBytes(32).toString('base64url');
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored.length >= 32) return stored;
  } catch {
    // Not created yet.
  }
  const secret = randomBytes(32).toString('base64url');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return secret;
}
