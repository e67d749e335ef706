import type { Cluster, Redis } from 'ioredis';
import { CLIENT_IDS_KEY } from '../store/keys.ts';
import { CliError } from './cli-error.ts';
import type { ClientMetadata } from './new-client-metadata.ts';

/**
 * The part of an oidc-provider adapter (model `Client`) the CLI needs, so clients land
 * exactly where the provider's `Client.find` looks.
 */
export interface ClientStore {
  upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<unknown>;
  find(id: string): Promise<Record<string, unknown> | undefined>;
  destroy(id: string): Promise<unknown>;
}

/**
 * Adds, lists and removes stored OAuth clients.
 *
 * @example
 * const registry = new ClientRegistry(new (createRedisAdapterClass(conn, options))('Client'), conn);
 * await registry.add(newClientMetadata(input, epochSeconds()));
 */
export class ClientRegistry {
  readonly #store: ClientStore;
  readonly #conn: Redis | Cluster;

  constructor(store: ClientStore, conn: Redis | Cluster) {
    this.#store = store;
    this.#conn = conn;
  }

  /** Stores a new client; refuses an id that is taken. Returns what was stored. */
  async add(metadata: ClientMetadata): Promise<ClientMetadata> {
    const id = metadata.client_id;
    // SADD claims the id atomically, so two concurrent adds of one id cannot both succeed;
    // the find covers clients stored by other means (dynamic registration).
    const claimed = (await this.#conn.sadd(CLIENT_IDS_KEY, id)) === 1;
    if (!claimed || (await this.#store.find(id)) !== undefined) {
      throw new CliError(`clients add: client_id "${id}" already exists`);
    }
    try {
      await this.#store.upsert(id, { ...metadata });
    } catch (err) {
      await this.#conn.srem(CLIENT_IDS_KEY, id);
      throw err;
    }
    return metadata;
  }

  /** Every client the CLI registered, by `client_id`. */
  async list(): Promise<Record<string, unknown>[]> {
    const ids = (await this.#conn.smembers(CLIENT_IDS_KEY)).sort();
    const clients: Record<string, unknown>[] = [];
    for (const id of ids) {
      const client = await this.#store.find(id);
      // An id whose record is gone (removed by other means) is dropped from the set as well.
      if (client === undefined) await this.#conn.srem(CLIENT_IDS_KEY, id);
      else clients.push(client);
    }
    return clients;
  }

  /** Deletes a client; new tokens can no longer be issued to it. */
  async remove(clientId: string): Promise<void> {
    if ((await this.#store.find(clientId)) === undefined) {
      await this.#conn.srem(CLIENT_IDS_KEY, clientId);
      throw new CliError(`clients remove: no client "${clientId}"`);
    }
    await this.#store.destroy(clientId);
    await this.#conn.srem(CLIENT_IDS_KEY, clientId);
  }
}
