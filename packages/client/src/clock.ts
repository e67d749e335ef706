/**
 * Time as the SDK sees it. Replace it in tests to move time forward instead of sleeping.
 *
 * @example
 * ```ts
 * let now = Date.now();
 * const clock: Clock = { now: () => now, sleep: async (ms) => { now += ms; } };
 * const auth = createGatehouseClient({ issuer, clientId, clock });
 * ```
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Waits `ms` milliseconds (device-code polling); rejects with the signal's reason when it aborts.
   * @default a `setTimeout` that honours the signal
   */
  sleep?(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The real clock: `Date.now()`.
 *
 * @example
 * ```ts
 * const auth = createGatehouseClient({ issuer, clientId, clock: systemClock });
 * ```
 */
export const systemClock: Clock = { now: () => Date.now() };
