/**
 * A bounded in-process map whose entries expire: when full, the oldest entry makes room, so
 * caller-chosen keys (client ids, addresses) cannot grow it without limit.
 *
 * @example
 * const recent = new ExpiringMap<true>(10_000);
 * recent.set(fingerprint, true, 60_000);
 * recent.get(fingerprint); // true for a minute
 */
export class ExpiringMap<V> {
  readonly #entries = new Map<string, { value: V; until: number }>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** The value, while it lives. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until > Date.now()) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  /** Milliseconds the entry still lives (0 when absent). */
  remaining(key: string): number {
    const entry = this.#entries.get(key);
    return entry && this.get(key) !== undefined ? entry.until - Date.now() : 0;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, until: Date.now() + ttlMs });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
