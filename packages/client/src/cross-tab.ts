import type { TokenSet } from './token-set.ts';

/**
 * What tabs tell each other: new tokens, or that the session ended and why.
 *
 * @example
 * ```ts
 * const message: CrossTabMessage = { type: 'cleared', reason: 'signedOut' };
 * ```
 */
export type CrossTabMessage =
  | { type: 'tokens'; tokens: TokenSet }
  | { type: 'cleared'; reason: 'signedOut' | 'sessionExpired' };

/**
 * A BroadcastChannel between the tabs of one origin, so a refresh or sign-out in one tab updates the others
 * without a reload. `undefined` where BroadcastChannel is missing.
 *
 * @example
 * ```ts
 * const channel = openCrossTabChannel('gatehouse:demo-spa', (message) => console.log(message.type));
 * channel?.post({ type: 'cleared', reason: 'signedOut' });
 * ```
 */
export function openCrossTabChannel(
  name: string,
  onMessage: (message: CrossTabMessage) => void,
): { post(message: CrossTabMessage): void; close(): void } | undefined {
  if (typeof BroadcastChannel !== 'function') return undefined;
  const channel = new BroadcastChannel(name);
  channel.onmessage = (event: MessageEvent<unknown>) => {
    const data = event.data as Partial<CrossTabMessage> | null;
    if (data?.type === 'tokens' || data?.type === 'cleared') onMessage(data as CrossTabMessage);
  };
  // Node keeps the event loop alive for an open channel; a client must not pin a CLI process.
  (channel as { unref?: () => void }).unref?.();
  return {
    post: (message) => channel.postMessage(message),
    close: () => channel.close(),
  };
}
