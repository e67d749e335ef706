import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { createAccessTokenVerifier } from '@gatehouse/resource';
import { createLocalJWKSet, type JSONWebKeySet, type JWK, jwtVerify } from 'jose';
import { workerMain } from '../support/child.ts';
import { median } from '../support/stats.ts';

export interface VerifierInput {
  readonly issuer: string;
  readonly audience: string;
  readonly token: string;
  readonly roundMs: number;
  readonly rounds: number;
}

export type VerifierResult = Record<
  'verifierCached' | 'verifierUncached' | 'joseJwtVerify' | 'cryptoVerify',
  number
> & {
  /** CPU µs of this process (all threads) per crypto.verify: less sensitive to a busy machine than ops/s. */
  readonly cryptoVerifyCpuMicros: number;
  /** CPU µs per uncached verification of the same token by the Gatehouse verifier, measured the same way. */
  readonly verifierUncachedCpuMicros: number;
};

const cpuMicrosPerOp: Record<string, number[]> = {};

/** Operations per second of `op`, run back to back for `ms` (awaited one at a time: one core). */
async function opsPerSecond(op: () => unknown, ms: number, name?: string): Promise<number> {
  // `name` is set for measured rounds only: their CPU per operation is kept.
  const cpu = process.cpuUsage();
  let count = 0;
  const started = performance.now();
  const end = started + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) await op();
    count += 50;
  }
  if (name !== undefined) {
    const used = process.cpuUsage(cpu);
    const list = cpuMicrosPerOp[name] ?? [];
    cpuMicrosPerOp[name] = list;
    list.push((used.user + used.system) / count);
  }
  return count / ((performance.now() - started) / 1000);
}

/** Scenario 4b: the same token through the Gatehouse verifier, jose's jwtVerify and crypto.verify. */
workerMain<VerifierInput, VerifierResult>(async (input) => {
  const { issuer, audience, token } = input;
  const jwks = (await (await fetch(`${issuer}/jwks`)).json()) as JSONWebKeySet;
  const [encodedHeader, encodedPayload, encodedSignature] = token.split('.') as [string, string, string];
  const { kid } = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString()) as { kid: string };
  const jwk = jwks.keys.find((k) => k.kid === kid) as JWK;
  const publicKey: KeyObject = createPublicKey({ key: jwk as never, format: 'jwk' });
  const signingInput = Buffer.from(`${encodedHeader}.${encodedPayload}`);
  const signature = Buffer.from(encodedSignature, 'base64url');
  const localJwks = createLocalJWKSet(jwks);

  const cached = createAccessTokenVerifier({ issuer, audience });
  const uncached = createAccessTokenVerifier({ issuer, audience, cache: false });
  const ops: Record<Exclude<keyof VerifierResult, `${string}CpuMicros`>, () => unknown> = {
    verifierCached: () => cached.verify(token),
    verifierUncached: () => uncached.verify(token),
    joseJwtVerify: () =>
      jwtVerify(token, localJwks, { issuer, audience, typ: 'at+jwt', algorithms: ['ES256'] }),
    cryptoVerify: () => {
      // RFC 7518 §3.4: JWS ECDSA signatures are R || S, not DER.
      if (!cryptoVerify('sha256', signingInput, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)) {
        throw new Error('signature did not verify');
      }
    },
  };
  const samples: Record<string, number[]> = {};
  for (const [name, op] of Object.entries(ops)) {
    await op(); // fails loudly if the token does not verify, and fills the JWKS and result caches
    await opsPerSecond(op, Math.min(500, input.roundMs)); // warm-up
    samples[name] = [];
  }
  for (let round = 0; round < input.rounds; round++) {
    for (const [name, op] of Object.entries(ops))
      samples[name]!.push(await opsPerSecond(op, input.roundMs, name));
  }
  cached.close();
  uncached.close();
  return {
    ...(Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as Record<
      keyof typeof ops,
      number
    >),
    cryptoVerifyCpuMicros: median(cpuMicrosPerOp.cryptoVerify ?? []),
    verifierUncachedCpuMicros: median(cpuMicrosPerOp.verifierUncached ?? []),
  };
});
