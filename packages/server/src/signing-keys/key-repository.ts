/**
 * Where the encrypted key set lives. `save` is compare-and-set: it writes only when the
 * stored value is still `expectedPrevious` (`null`: nothing stored), so two instances that
 * start at once cannot both generate a first key or both rotate.
 */
export interface KeyRepository {
  load(): Promise<string | null>;
  /** Resolves `false`, writing nothing, when the stored value is no longer `expectedPrevious`. */
  save(next: string, expectedPrevious: string | null): Promise<boolean>;
}

/**
 * A {@link KeyRepository} in process memory, for the development store and tests.
 *
 * @example
 * const repo = new MemoryKeyRepository();
 * await ensureSigningKeys(repo, secret);
 */
export class MemoryKeyRepository implements KeyRepository {
  #value: string | null = null;

  async load(): Promise<string | null> {
    return this.#value;
  }

  async save(next: string, expectedPrevious: string | null): Promise<boolean> {
    if (this.#value !== expectedPrevious) return false;
    this.#value = next;
    return true;
  }
}
