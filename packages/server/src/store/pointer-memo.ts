/** Pointers whose last known target {@link PointerMemo} keeps per process: about 2 MB. */
export const POINTER_MEMO_SIZE = 10_000;

/**
 * Pointer key (a session uid, a device user code) → the record id it named when this process last
 * wrote or read it, so a lookup can read the pointer and that record together (one round trip)
 * instead of one after the other. Only a guess: the pointer is read every time, and the record is
 * served only when the pointer still names that id, so a lookup answers exactly what the two reads
 * in sequence would. Bounded: when full, the entry remembered longest ago makes room.
 *
 * @example
 * const memo = new PointerMemo(POINTER_MEMO_SIZE);
 * memo.set('gatehouse:uid:{u1}', 'session-id');
 * memo.get('gatehouse:uid:{u1}'); // 'session-id'
 */
export class PointerMemo {
  readonly #entries = new Map<string, string>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get(pointer: string): string | undefined {
    return this.#entries.get(pointer);
  }

  set(pointer: string, id: string): void {
    if (this.#entries.get(pointer) === id) return;
    // Re-inserted at the end: the entry remembered longest ago is the first one.
    this.#entries.delete(pointer);
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(pointer, id);
  }

  /** Forgets the pointer only while it names `id` (a newer target stays). */
  forget(pointer: string, id: string): void {
    if (this.#entries.get(pointer) === id) this.#entries.delete(pointer);
  }
}
