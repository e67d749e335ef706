import type { Clock } from '../../src/index.ts';

/**
 * A clock that runs with real time plus an offset the test moves forward, and whose `sleep` returns at once
 * (yielding to the event loop) while recording what was asked: time travel instead of waiting.
 */
export class TestClock implements Clock {
  offsetMs = 0;
  readonly sleeps: number[] = [];
  onSleep: ((ms: number) => void | Promise<void>) | undefined;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.offsetMs += ms;
    await this.onSleep?.(ms);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
