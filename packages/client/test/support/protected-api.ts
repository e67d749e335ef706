/**
 * A tiny protected API for testing `auth.http`: verifies JWT access tokens (at+jwt) against the authorization
 * server's JWKS with jose, answers 401 `WWW-Authenticate: Bearer error="invalid_token"` for anything it
 * rejects (RFC 6750 §3.1). Its clock can be moved forward to expire tokens without sleeping. A DPoP-bound token
 * (`cnf.jkt`) must come as `Authorization: DPoP` with a proof of that key for this request and token (RFC 9449
 * §7); with `dpopNonce` set, proofs must also carry it (§9).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, createRemoteJWKSet, EmbeddedJWK, jwtVerify } from 'jose';

export interface ProtectedApi {
  url: string;
  /** Every request: the token it carried, its scheme (`Bearer`, `DPoP`) and the status it got. */
  requests: { token: string | undefined; scheme?: string | undefined; status: number }[];
  /** RFC 9449 §9: when set, DPoP proofs must carry this nonce; others get 401 `use_dpop_nonce` with it. */
  dpopNonce: string | undefined;
  /** Tokens rejected as revoked, whatever their signature says. */
  revokedTokens: Set<string>;
  /** Reject every token (a server that keeps answering 401). */
  rejectAll: boolean;
  /** Moves the API's clock forward, so tokens expire for it. */
  advanceClock(seconds: number): void;
  /** Makes the next request wait until the returned function is called; resolves once that request arrived. */
  holdNextRequest(): { arrived: Promise<void>; release: () => void };
  close(): Promise<void>;
}

/**
 * Starts the API on a free port.
 *
 * @example
 * ```ts
 * const api = await startProtectedApi({ issuer: server.issuer, audience: server.apiResource });
 * ```
 */
export async function startProtectedApi(config: { issuer: string; audience: string }): Promise<ProtectedApi> {
  const jwks = createRemoteJWKSet(new URL(`${config.issuer}/jwks`));
  let offsetMs = 0;
  let held: { arrived: () => void; released: Promise<void> } | undefined;

  const api: ProtectedApi = {
    url: '',
    requests: [],
    revokedTokens: new Set(),
    rejectAll: false,
    dpopNonce: undefined,
    advanceClock(seconds) {
      offsetMs += seconds * 1000;
    },
    holdNextRequest() {
      let arrived!: () => void;
      let release!: () => void;
      const arrivedPromise = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      held = { arrived, released };
      return { arrived: arrivedPromise, release };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [, scheme, token] = /^(Bearer|DPoP) (\S+)$/i.exec(req.headers.authorization ?? '') ?? [];
    const hold = held;
    held = undefined;
    if (hold) {
      hold.arrived();
      await hold.released;
    }
    // Its own clock, in its `Date` header too (what a client can learn a server's time from).
    const date = new Date(Date.now() + offsetMs).toUTCString();
    const reject = (error: string, extra: Record<string, string> = {}) => {
      api.requests.push({ token, scheme, status: 401 });
      res.writeHead(401, {
        date,
        'www-authenticate': token ? `${scheme} error="${error}"` : 'Bearer',
        'content-type': 'application/json',
        ...extra,
      });
      res.end(JSON.stringify({ error }));
    };
    if (!token || api.rejectAll || api.revokedTokens.has(token)) return reject('invalid_token');
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: config.issuer,
        audience: config.audience,
        typ: 'at+jwt',
        currentDate: new Date(Date.now() + offsetMs),
      });
      const jkt = (payload.cnf as { jkt?: string } | undefined)?.jkt;
      if (jkt || scheme?.toLowerCase() === 'dpop') {
        if (!jkt || scheme !== 'DPoP') return reject('invalid_token');
        const proof = await jwtVerify(String(req.headers.dpop), EmbeddedJWK, {
          typ: 'dpop+jwt',
          algorithms: ['ES256'],
          maxTokenAge: 15,
          clockTolerance: 15,
          currentDate: new Date(Date.now() + offsetMs),
        }).catch(() => undefined);
        if (!proof) return reject('invalid_dpop_proof');
        const ath = Buffer.from(
          await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)),
        ).toString('base64url');
        if (
          (await calculateJwkThumbprint(proof.protectedHeader.jwk!)) !== jkt ||
          proof.payload.htm !== req.method ||
          proof.payload.htu !== `${api.url}${new URL(req.url ?? '/', api.url).pathname}` ||
          proof.payload.ath !== ath
        )
          return reject('invalid_token');
        if (api.dpopNonce && proof.payload.nonce !== api.dpopNonce)
          return reject('use_dpop_nonce', { 'dpop-nonce': api.dpopNonce });
      }
      api.requests.push({ token, scheme, status: 200 });
      res.writeHead(200, { 'content-type': 'application/json', date });
      res.end(JSON.stringify({ sub: payload.sub, client_id: payload.client_id, scope: payload.scope }));
    } catch {
      reject('invalid_token');
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return api;
}
