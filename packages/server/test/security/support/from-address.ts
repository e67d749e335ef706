import { type RawResponse, rawRequest } from './raw-request.ts';

export type LoopbackResponse = RawResponse;

/**
 * POSTs a form from a chosen loopback address (the whole 127.0.0.0/8 is local on Linux), so
 * the server sees as many client addresses as a test needs without a proxy header. Only
 * ever to loopback.
 *
 * @example
 * await postFormFrom('127.0.0.23', `${issuer}/token`, { grant_type: 'client_credentials' }, basic(id, secret));
 */
export function postFormFrom(
  localAddress: string,
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<LoopbackResponse> {
  const target = new URL(url);
  return rawRequest(target.origin, {
    method: 'POST',
    path: `${target.pathname}${target.search}`,
    from: localAddress,
    headers,
    body: new URLSearchParams(form).toString(),
  });
}

/** The `n`th test address, 127.0.0.<n> (n in 2–254). */
export function loopback(n: number): string {
  if (!Number.isInteger(n) || n < 2 || n > 254) throw new Error(`no loopback address ${n}`);
  return `127.0.0.${n}`;
}
