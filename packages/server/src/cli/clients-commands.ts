import { epochSeconds } from '../keys/signing-key-record.ts';
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

/** `gatehouse clients list`: the registered clients without their secrets. */
export async function clientsList(registry: ClientRegistry, options: { json: boolean }): Promise<string> {
  const clients = (await registry.list()).map(({ client_secret: _secret, ...client }) => client);
  if (options.json) return JSON.stringify(clients, null, 2);
  if (clients.length === 0) return 'no clients registered with gatehouse clients add';
  const list = (value: unknown, fallback: string) => (Array.isArray(value) ? value.join(',') : fallback);
  return formatTable([
    ['CLIENT_ID', 'NAME', 'AUTH', 'GRANTS', 'REDIRECT_URIS'],
    ...clients.map((client) => [
      String(client.client_id),
      typeof client.client_name === 'string' ? client.client_name : '-',
      typeof client.token_endpoint_auth_method === 'string'
        ? client.token_endpoint_auth_method
        : 'client_secret_basic',
      list(client.grant_types, 'authorization_code,refresh_token'),
      list(client.redirect_uris, '-'),
    ]),
  ]);
}

/** `gatehouse clients remove <id>`. */
export async function clientsRemove(registry: ClientRegistry, clientId: string): Promise<string> {
  await registry.remove(clientId);
  return `removed client ${clientId}`;
}
