import { readFileSync } from 'node:fs';
import type Provider from 'oidc-provider';
import type { ClientMetadata } from 'oidc-provider';
import { ConfigError } from '../config/config.ts';

/**
 * Reads `GATEHOUSE_CLIENTS_FILE`: a JSON array of OAuth client metadata with RFC 7591 field
 * names. Shape errors are reported here; protocol validation happens in {@link validateClients}.
 */
export function readClientsFile(path: string): ClientMetadata[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const reason = err instanceof SyntaxError ? 'is not valid JSON' : 'cannot be read';
    throw new ConfigError(`GATEHOUSE_CLIENTS_FILE: ${path} ${reason}`);
  }
  if (!Array.isArray(parsed))
    throw new ConfigError('GATEHOUSE_CLIENTS_FILE must hold a JSON array of clients');
  const seen = new Set<string>();
  return parsed.map((entry, index) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new ConfigError(`GATEHOUSE_CLIENTS_FILE: entry ${index} is not an object`);
    }
    const id = (entry as { client_id?: unknown }).client_id;
    if (typeof id !== 'string' || id === '') {
      throw new ConfigError(`GATEHOUSE_CLIENTS_FILE: entry ${index} has no client_id`);
    }
    if (seen.has(id)) throw new ConfigError(`GATEHOUSE_CLIENTS_FILE: client "${id}" appears twice`);
    seen.add(id);
    return entry as ClientMetadata;
  });
}

/**
 * Runs oidc-provider's own client metadata validation on every configured client at start,
 * so bad metadata stops the server with a message naming the client and field instead of
 * failing on the client's first request.
 */
export async function validateClients(provider: Provider, clients: readonly ClientMetadata[]): Promise<void> {
  for (const metadata of clients) {
    try {
      await provider.Client.validate(metadata);
    } catch (err) {
      const detail = (err as { error_description?: string }).error_description ?? (err as Error).message;
      throw new ConfigError(`client "${metadata.client_id}": ${detail}`);
    }
  }
}
