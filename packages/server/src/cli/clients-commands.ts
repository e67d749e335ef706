import { epochSeconds } from '../signing-keys/signing-key-record.ts';
import { CliError } from './cli-error.ts';
import type { ClientRegistry } from './client-registry.ts';
import { formatTable } from './format-table.ts';
import { type ClientMetadata, newClientMetadata } from './new-client-metadata.ts';

export interface ClientsAddOptions {
  /** A further check of the completed metadata, e.g. `checkWithProvider`; throws to refuse. */
  readonly check?: (metadata: ClientMetadata) => Promise<void>;
  readonly now?: number;
}

/**
 * `gatehouse clients add --json '<metadata>'`: validates, stores and prints the client as
 * JSON, `client_secret` included: this is the only time it is shown.
 *
 * @example
 * console.log(await clientsAdd(store.clients, '{"redirect_uris":["https://app.example/cb"]}'));
 */
export async function clientsAdd(
  registry: ClientRegistry,
  json: string,
  options: ClientsAddOptions = {},
): Promise<string> {
  let input: unknown;
  try {
    input = JSON.parse(json);
  } catch {
    throw new CliError('clients add: --json is not valid JSON');
  }
  const metadata = newClientMetadata(input, options.now ?? epochSeconds());
  await options.check?.(metadata);
  return JSON.stringify(await registry.add(metadata), null, 2);
}

/** Clients the server loads from `GATEHOUSE_CLIENTS_FILE`: the CLI lists them, never changes them. */
export interface FileClients {
  /** The file's path, as the operator configured it. */
  readonly path: string;
  readonly clients: readonly Readonly<Record<string, unknown>>[];
}

/** Where a listed client lives: the clients file (read at start) or Redis (`clients add`, RFC 7591). */
export type ClientSource = 'file' | 'redis';

/**
 * `gatehouse clients list`: every client the server serves, those of `GATEHOUSE_CLIENTS_FILE`
 * first, each marked with its source, none with its secret.
 */
export async function clientsList(
  registry: ClientRegistry,
  options: { json: boolean; file?: FileClients | undefined },
): Promise<string> {
  const withoutSecret = (
    client: Readonly<Record<string, unknown>>,
    source: ClientSource,
  ): Record<string, unknown> & { source: ClientSource } => {
    const { client_secret: _secret, ...rest } = client;
    return { ...rest, source };
  };
  const clients = [
    ...(options.file?.clients ?? []).map((client) => withoutSecret(client, 'file')),
    ...(await registry.list()).map((client) => withoutSecret(client, 'redis')),
  ];
  if (options.json) return JSON.stringify(clients, null, 2);
  if (clients.length === 0) {
    return 'no clients: none in GATEHOUSE_CLIENTS_FILE, none registered with gatehouse clients add';
  }
  const list = (value: unknown, fallback: string) => (Array.isArray(value) ? value.join(',') : fallback);
  return formatTable([
    ['CLIENT_ID', 'SOURCE', 'NAME', 'AUTH', 'GRANTS', 'REDIRECT_URIS'],
    ...clients.map((client) => [
      String(client.client_id),
      client.source,
      typeof client.client_name === 'string' ? client.client_name : '-',
      typeof client.token_endpoint_auth_method === 'string'
        ? client.token_endpoint_auth_method
        : 'client_secret_basic',
      list(client.grant_types, 'authorization_code,refresh_token'),
      list(client.redirect_uris, '-'),
    ]),
  ]);
}

/**
 * `gatehouse clients remove <id>`. A client of `GATEHOUSE_CLIENTS_FILE` is refused: the server
 * loads it from the file again at every start, so only an edit of the file removes it.
 */
export async function clientsRemove(
  registry: ClientRegistry,
  clientId: string,
  file?: FileClients,
): Promise<string> {
  if (file?.clients.some((client) => client.client_id === clientId)) {
    throw new CliError(
      `clients remove: client "${clientId}" comes from GATEHOUSE_CLIENTS_FILE (${file.path}); remove it there`,
    );
  }
  await registry.remove(clientId);
  return `removed client ${clientId}`;
}
