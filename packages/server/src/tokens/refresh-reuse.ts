import type { Adapter, AdapterConstructor } from 'oidc-provider';

export type { RefreshSerializer } from '../store/refresh-locks.ts';

/** Links a rotated refresh token to its successor for the length of the reuse interval. */
export class SuccessorLinks {
  readonly #adapter: Adapter;
  readonly #ttl: number;

  constructor(Adapter: AdapterConstructor, reuseInterval: number) {
    this.#adapter = new Adapter('RefreshTokenSuccessor');
    this.#ttl = reuseInterval + 60;
  }

  async successorOf(tokenId: string): Promise<string | undefined> {
    const link = await this.#adapter.find(tokenId);
    const successor = (link as { successor?: unknown } | undefined)?.successor;
    return typeof successor === 'string' ? successor : undefined;
  }

  async link(tokenId: string, successor: string): Promise<void> {
    await this.#adapter.upsert(tokenId, { successor } as never, this.#ttl);
  }
}
