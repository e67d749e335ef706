/**
 * Shows how long the current access token has left, ticking every second.
 *
 * @example
 * ```ts
 * const lifetime = new TokenLifetime(label, meter);
 * lifetime.track(tokens.expiresAt);
 * ```
 */
export class TokenLifetime {
  readonly #label: HTMLElement;
  readonly #meter: HTMLMeterElement;
  #expiresAt: number | undefined;
  #lifetime = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(label: HTMLElement, meter: HTMLMeterElement) {
    this.#label = label;
    this.#meter = meter;
  }

  /** Starts showing a token that expires at `expiresAt` (ms since the epoch); `undefined` stops. */
  track(expiresAt: number | undefined): void {
    this.#expiresAt = expiresAt;
    this.#lifetime = expiresAt === undefined ? 0 : Math.max(1, expiresAt - Date.now());
    clearInterval(this.#timer);
    this.#timer = expiresAt === undefined ? undefined : setInterval(() => this.#render(), 1000);
    this.#render();
  }

  #render(): void {
    const expiresAt = this.#expiresAt;
    if (expiresAt === undefined) {
      this.#label.textContent = 'none yet';
      this.#meter.value = 0;
      return;
    }
    const left = expiresAt - Date.now();
    const seconds = Math.ceil(left / 1000);
    this.#label.textContent =
      left > 0 ? `expires in ${formatDuration(seconds)}` : 'expired; the SDK renews it on the next call';
    this.#meter.value = Math.max(0, left / this.#lifetime);
  }
}

function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${seconds % 60} s`;
}
