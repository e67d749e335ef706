/**
 * A bounded per-process map of guesses that save a Redis round trip: where a uid pointer pointed
 * last (the Redis adapter), where an account's record lives (the account store). Only ever a
 * guess the caller checks against what it reads, never a record. Bounded: when full, the entry
 * remembered longest ago makes room.
 *
 * @example
 * const memo = new BoundedMemo(10_000);
 * memo.set('gatehouse:uid:{u1}', 'session-id');
 * memo.get('gatehouse:uid:{u1}'); // 'session-id'
 */
export class BoundedMemo {
  readonly #entries = new Map<string, string>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get(key: string): string | undefined {
    return this.#entries.get(key);
  }

  set(key: string, value: string): void {
    if (this.#entries.get(key) === value) return;
    // Re-inserted at the end: the entry remembered longest ago is the first one.
    this.#entries.delete(key);
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, value);
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Forgets the key only while it names `value` (a newer value stays). */
  forget(key: string, value: string): void {
    if (this.#entries.get(key) === value) this.#entries.delete(key);
  }
}
