import { createHash, createPrivateKey, randomUUID, sign } from 'node:crypto';
import type { Request } from 'autocannon';
import type { JWK } from 'jose';
import { runAutocannon } from '../support/autocannon-run.ts';
import { workerMain } from '../support/child.ts';
import type { LoadResult } from '../support/load.ts';

export interface DpopLoadSpec {
  /** Where the requests go (the API's listening address). */
  readonly url: string;
  /** Sent as is on every request (Bearer, or nothing) when there is no `dpop`. */
  readonly headers?: Record<string, string>;
  /** Present for DPoP load: `Authorization: DPoP <token>` and a fresh proof per request. */
  readonly dpop?: {
    /** The URL the proofs name (`htu`): the API's public URL. */
    readonly htu: string;
    readonly token: string;
    /** The client's ES256 private key as a JWK (with `d`); the public part goes into every proof. */
    readonly privateJwk: JWK;
  };
  readonly connections: number;
  readonly durationSeconds: number;
  /** Requests per second over all connections; unset: as fast as the server answers. */
  readonly overallRate?: number;
}

/**
 * Load with `Authorization: DPoP` and a fresh proof per request (RFC 9449: a proof is single-use), signed in
 * this process with node:crypto before the run; runs apart from the server like the other loads.
 */
workerMain<DpopLoadSpec, LoadResult>((spec) =>
  runAutocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationSeconds,
    timeout: 30,
    ...(spec.overallRate === undefined ? {} : { overallRate: spec.overallRate }),
    ...(spec.dpop
      ? { requests: [dpopRequests(spec.dpop, spec.durationSeconds)] }
      : { headers: spec.headers ?? {} }),
  }),
);

function dpopRequests(spec: NonNullable<DpopLoadSpec['dpop']>, durationSeconds: number) {
  const key = createPrivateKey({ key: spec.privateJwk as never, format: 'jwk' });
  const { d: _private, ...publicJwk } = spec.privateJwk;
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk })).toString(
    'base64url',
  );
  const ath = createHash('sha256').update(spec.token).digest('base64url');
  const prefix = randomUUID();
  let sequence = 0;
  const proof = () => {
    const payload = Buffer.from(
      JSON.stringify({
        jti: `${prefix}-${sequence++}`,
        htm: 'GET',
        htu: spec.htu,
        iat: Math.floor(Date.now() / 1000),
        ath,
      }),
    ).toString('base64url');
    const input = `${header}.${payload}`;
    // RFC 7518 §3.4: R || S, not DER.
    const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  };
  // Made before the run, so that signing does not slow the load generator down (a proof per request costs
  // about one signature): enough for the run at a rate well above what the API serves here, then on the fly.
  const pool = Array.from({ length: Math.min(60_000, durationSeconds * 12_000) }, proof);
  let used = 0;
  return {
    method: 'GET' as const,
    setupRequest: (request: Request) => ({
      ...request,
      headers: { ...request.headers, authorization: `DPoP ${spec.token}`, dpop: pool[used++] ?? proof() },
    }),
  };
}
