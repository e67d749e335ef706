/**
 * DPoP for every request a client makes (RFC 9449), as a wrapper around its `fetch`: proofs on token endpoint
 * requests (§5) and on API requests that carry an access token (§7), the server's nonces (§8, §9) remembered
 * per origin, and exactly one retry when a server asks for a nonce. Loaded on demand: a client without
 * `dpop: true` never downloads it.
 */

import type { GatehouseError } from '../errors.ts';
import type { AuthorizationServerMetadata } from '../protocol.ts';
import { type DpopKeyStore, indexedDbDpopKeys, memoryDpopKeys } from './dpop-keys.ts';
import { createDpopProof } from './dpop-proof.ts';

/** A `fetch` with DPoP proofs, and the deletion of its key (sign-out: the next sign-in gets a new key). */
export type DpopFetch = typeof fetch & { forgetKey(): Promise<void> };

/** A clock this far from the server's is corrected in proofs (servers allow about a minute, RFC 9449 §11.1). */
const SKEW_MS = 5_000;

/** RFC 9449 §8 (token endpoint) and §9 (resource server): the server wants a proof with its nonce. */
const asksForNonce = async (response: Response, resource: boolean): Promise<boolean> =>
  resource
    ? response.status === 401 &&
      /\berror\s*=\s*"?use_dpop_nonce\b/.test(response.headers.get('www-authenticate') ?? '')
    : response.status === 400 &&
      (await response
        .clone()
        .json()
        .then((body: { error?: unknown }) => body.error === 'use_dpop_nonce')
        .catch(() => false));

/**
 * Wraps `fetch`: a request with `Authorization: Bearer <token>` (which `auth.http` sets only for `apiOrigins`)
 * goes out as `Authorization: DPoP <token>` with a proof carrying `ath`; a POST to the token endpoint gets a
 * proof; everything else passes untouched. Each response's `DPoP-Nonce` becomes the nonce for its origin, and
 * its `Date` corrects the proofs' `iat` when this device's clock is off. A `use_dpop_nonce` answer, or a
 * refusal whose `Date` shows that the proof's `iat` was off, is retried once; a second refusal is returned as
 * it is.
 *
 * @example
 * ```ts
 * const dpopFetch = createDpopFetch(GatehouseError, fetch, 'gatehouse:https://id.example.com:demo-spa', discover);
 * await dpopFetch('https://api.example.com/me', { headers: { authorization: `Bearer ${accessToken}` } });
 * ```
 */
export function createDpopFetch(
  /** The entry's error class, passed in: importing it would split a shared chunk off the browser entry. */
  Failure: typeof GatehouseError,
  /** The client's own `fetch`. */
  send: typeof fetch,
  /** Names the key: one per issuer and client (the client's storage prefix). */
  name: string,
  /** Discovery: POSTs to the `token_endpoint` get a proof without `ath`. */
  metadata: () => Promise<AuthorizationServerMetadata>,
  /** Where the key lives (Node's `fileStorage()`: beside the tokens); else IndexedDB, or memory without it. */
  keys: DpopKeyStore = globalThis.indexedDB ? indexedDbDpopKeys(name) : memoryDpopKeys(name),
): DpopFetch {
  /** The newest `DPoP-Nonce` each origin sent (servers may rotate it on any response). */
  const nonces = new Map<string, string>();
  /**
   * How far the servers' clocks (their `Date` headers) are ahead of this device's, in ms; 0 within
   * {@link SKEW_MS}. One figure for every origin: it is this device's clock that is off, and a cross-origin
   * server's `Date` is hidden unless it exposes it, so what the API (usually same-origin) shows also corrects
   * proofs for the token endpoint. Proofs carry `iat`, which servers accept only within a minute or so of their
   * own time (RFC 9449 §11.1).
   */
  let skew = 0;

  const dpopFetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const accessToken = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
    const proves =
      !!accessToken || (request.method === 'POST' && request.url === (await metadata()).token_endpoint);
    if (!proves) return send(request);
    const { origin } = new URL(request.url);
    const keyPair = await keys.load().catch((cause: Error) => {
      throw new Failure(`DPoP key unavailable: ${cause.message}`, { code: 'ERR_DPOP_UNSUPPORTED', cause });
    });
    const used = skew;
    const attempt = async (last: boolean) => {
      const sent = last ? request : request.clone();
      sent.headers.set(
        'dpop',
        await createDpopProof(keyPair, {
          method: request.method,
          url: request.url,
          nonce: nonces.get(origin),
          accessToken,
          now: Date.now() + skew,
        }),
      );
      // RFC 9449 §7.1: a DPoP-bound token is presented with the DPoP scheme.
      if (accessToken) sent.headers.set('authorization', `DPoP ${accessToken}`);
      const response = await send(sent);
      const nonce = response.headers.get('dpop-nonce');
      if (nonce) nonces.set(origin, nonce);
      // `Date` has a resolution of one second, and cross-origin responses hide it unless the server exposes it.
      const offset = Date.parse(response.headers.get('date') ?? '') - Date.now();
      if (!Number.isNaN(offset)) skew = Math.abs(offset) > SKEW_MS ? offset : 0;
      return response;
    };
    const first = await attempt(false);
    // One retry, when the refusal told us what a new proof needs: the server's nonce, or the server's time.
    const clockWasOff = Math.abs(skew - used) > SKEW_MS && first.status >= 400;
    if (!clockWasOff && !(first.headers.get('dpop-nonce') && (await asksForNonce(first, !!accessToken))))
      return first;
    await first.body?.cancel();
    return attempt(true);
  };
  return Object.assign(dpopFetch, { forgetKey: () => keys.forget() });
}
