import { NetworkError, TimeoutError } from './errors.ts';

/**
 * How the SDK reaches the authorization server: which `fetch`, and how long one request may take.
 *
 * @example
 * ```ts
 * const transport: Transport = { fetch: globalThis.fetch, timeoutMs: 10_000 };
 * ```
 */
export interface Transport {
  fetch: typeof fetch;
  /** Per-request timeout in milliseconds. */
  timeoutMs: number;
}

/**
 * Sends one request and maps transport failures to typed errors: an abort by the timeout becomes
 * {@link TimeoutError}, anything else without a response becomes {@link NetworkError}. Never retries.
 *
 * @example
 * ```ts
 * const response = await sendRequest({ fetch, timeoutMs: 10_000 }, 'https://id.example.com/token', { method: 'POST', body });
 * ```
 */
export async function sendRequest(transport: Transport, url: string, init: RequestInit): Promise<Response> {
  const signal = AbortSignal.timeout(transport.timeoutMs);
  try {
    return await transport.fetch(url, { ...init, signal, redirect: 'manual' });
  } catch (cause) {
    if (signal.aborted)
      throw new TimeoutError(`request to ${url} timed out after ${transport.timeoutMs} ms`, { cause });
    throw new NetworkError(`request to ${url} failed`, { cause });
  }
}
