import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { waitForCallback } from '../src/popup/callback-message.ts';

// The opener's side of a popup sign-in, with the window's message events and timers under the test's control:
// a browser that runs the popup in another process may let the opener see `popup.closed` before the callback
// page's message (posted before it closed) is delivered. Chromium does so at times under load.
const ORIGIN = 'https://app.example';
const popup = { closed: false };
const events = new EventTarget();
const globals = globalThis as unknown as Record<string, unknown>;

beforeEach(() => {
  vi.useFakeTimers();
  popup.closed = false;
  globals.addEventListener = events.addEventListener.bind(events);
  globals.removeEventListener = events.removeEventListener.bind(events);
});
afterEach(() => {
  vi.useRealTimers();
  delete globals.addEventListener;
  delete globals.removeEventListener;
});

const deliver = (data: unknown, source: unknown = popup, origin = ORIGIN) =>
  events.dispatchEvent(Object.assign(new Event('message'), { data, source, origin }));

const wait = () =>
  waitForCallback({
    source: () => popup as unknown as Window,
    origin: ORIGIN,
    giveUp: () => (popup.closed ? new Error('closed') : undefined),
  });

describe('waitForCallback (popup and silent sign-in)', () => {
  it('takes the callback that arrives after the popup already reads closed', async () => {
    const url = wait();
    popup.closed = true;
    await vi.advanceTimersByTimeAsync(300); // the poll has seen the popup closed
    deliver({ gatehouseCallback: `${ORIGIN}/popup-callback.html?code=c&state=s` });
    await expect(url).resolves.toBe(`${ORIGIN}/popup-callback.html?code=c&state=s`);
  });

  it('gives up once the popup is closed and no callback came, within about a second', async () => {
    const url = wait();
    const outcome = url.then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    popup.closed = true;
    await vi.advanceTimersByTimeAsync(1_300);
    await expect(outcome).resolves.toBe('closed');
    deliver({ gatehouseCallback: `${ORIGIN}/late` }); // too late, and nobody listens any more
  });

  it('ignores messages from another window or another origin, also while it waits out the closing', async () => {
    const url = wait();
    const outcome = url.then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    deliver({ gatehouseCallback: `${ORIGIN}/from-elsewhere` }, {});
    deliver({ gatehouseCallback: 'https://evil.example/cb' }, popup, 'https://evil.example');
    popup.closed = true;
    await vi.advanceTimersByTimeAsync(300);
    deliver({ gatehouseCallback: `${ORIGIN}/from-elsewhere` }, {});
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(outcome).resolves.toBe('closed');
  });
});
