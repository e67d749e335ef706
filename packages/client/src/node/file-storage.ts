import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TokenStorage } from '../storage/token-storage.ts';

async function readMap(path: string): Promise<Record<string, string>> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      ),
    );
  } catch {
    return {}; // a corrupted file reads as empty and is replaced on the next write
  }
}

async function writeAtomically(path: string, map: Record<string, string>): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  // Created 0600 from the start (never readable by others, not even briefly), then renamed over the target:
  // readers see the old file or the new one, never half of one.
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(JSON.stringify(map));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

const fileStorages = new WeakSet<TokenStorage>();

/** Whether `storage` came from {@link fileStorage}: a 0600 file that may also hold the DPoP key. */
export const isFileStorage = (storage: TokenStorage): boolean => fileStorages.has(storage);

/**
 * Keeps tokens in a JSON file for Node CLIs: mode 0600 in a 0700 directory, each write to a temporary file
 * renamed over the old one. With `dpop: true` the client's DPoP private key is kept in it too (as a JWK: a
 * key that must outlive the process cannot stay non-extractable). Writes from one process are serialised;
 * separate processes should not share a file while refreshing (their refresh tokens would race).
 *
 * @example
 * ```ts
 * import { createGatehouseClient, fileStorage } from '@gatehouse/client/node';
 * import { homedir } from 'node:os';
 *
 * const auth = createGatehouseClient({
 *   issuer: 'https://id.example.com',
 *   clientId: 'demo-cli',
 *   storage: fileStorage(`${homedir()}/.config/recipes/tokens.json`),
 * });
 * ```
 */
export function fileStorage(path: string): TokenStorage {
  let queue: Promise<unknown> = Promise.resolve();
  const update = (change: (map: Record<string, string>) => void): Promise<void> => {
    const next = queue.then(async () => {
      const map = await readMap(path);
      change(map);
      await writeAtomically(path, map);
    });
    queue = next.catch(() => undefined);
    return next;
  };
  const storage: TokenStorage = {
    get: async (key) => {
      await queue;
      return (await readMap(path))[key];
    },
    set: (key, value) =>
      update((map) => {
        map[key] = value;
      }),
    remove: (key) =>
      update((map) => {
        delete map[key];
      }),
  };
  fileStorages.add(storage);
  return storage;
}
