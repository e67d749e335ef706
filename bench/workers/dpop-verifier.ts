import {
  createHash,
  createPrivateKey,
  createPublicKey,
  verify as cryptoVerify,
  randomUUID,
  sign,
} from 'node:crypto';
import { createAccessTokenVerifier } from '@gatehouse/resource';
import { importJWK, type JWK, jwtVerify } from 'jose';
import { workerMain } from '../support/child.ts';
import { median } from '../support/stats.ts';

export interface DpopVerifierInput {
  readonly issuer: string;
  readonly audience: string;
  /** An unbound access token (presented as Bearer). */
  readonly bearerToken: string;
  /** A token bound to `privateJwk` (cnf.jkt), presented as DPoP. */
  readonly boundToken: string;
  readonly privateJwk: JWK;
  /** The URL the proofs name. */
  readonly htu: string;
  readonly roundMs: number;
  readonly rounds: number;
}

/** Operations per CPU second (process.cpuUsage: robust on a loaded machine, and counts libuv threads). */
export type DpopVerifierResult = Record<'bearerCached' | 'dpop' | 'cryptoVerify' | 'joseJwtVerify', number>;

const BATCH = 500;

/**
 * Scenario 8b: per-operation CPU cost of the verifier with a DPoP proof (token result cached, proof checked)
 * against the same verifier with a Bearer token (cached) and one ES256 crypto.verify. Proofs are made
 * between timed batches, each used once, so only verification is timed.
 */
workerMain<DpopVerifierInput, DpopVerifierResult>(async (input) => {
  const { issuer, audience, bearerToken, boundToken, htu } = input;
  const privateKey = createPrivateKey({ key: input.privateJwk as never, format: 'jwk' });
  const publicKey = createPublicKey(privateKey);
  const { d: _private, ...publicJwk } = input.privateJwk;
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk })).toString(
    'base64url',
  );
  const ath = createHash('sha256').update(boundToken).digest('base64url');
  const prefix = randomUUID();
  let sequence = 0;
  const proof = () => {
    const payload = Buffer.from(
      JSON.stringify({
        jti: `${prefix}-${sequence++}`,
        htm: 'GET',
        htu,
        iat: Math.floor(Date.now() / 1000),
        ath,
      }),
    ).toString('base64url');
    const signingInput = `${header}.${payload}`;
    const signature = sign('sha256', Buffer.from(signingInput), {
      key: privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    return `${signingInput}.${signature.toString('base64url')}`;
  };

  const verifier = createAccessTokenVerifier({ issuer, audience, dpopPublicOrigin: new URL(htu).origin });
  const presentation = (dpop: string) => ({ scheme: 'DPoP' as const, dpop, method: 'GET', url: htu });
  // A proof's signature and signing input, for crypto.verify alone.
  const sample = proof().split('.');
  const signingInput = Buffer.from(`${sample[0]}.${sample[1]}`);
  const signature = Buffer.from(sample[2] ?? '', 'base64url');

  /** Operations per CPU second of `op` over batches of fresh inputs, counting only the operations. */
  const opsPerSecond = async <T>(make: () => T, op: (input: T) => unknown, ms: number) => {
    let count = 0;
    let spentMicros = 0;
    while (spentMicros < ms * 1000) {
      const inputs = Array.from({ length: BATCH }, make);
      const started = process.cpuUsage();
      for (const item of inputs) await op(item);
      const used = process.cpuUsage(started);
      spentMicros += used.user + used.system;
      count += BATCH;
    }
    return count / (spentMicros / 1e6);
  };
  const joseKey = await importJWK(publicJwk, 'ES256');
  const ops: Record<keyof DpopVerifierResult, () => Promise<number>> = {
    bearerCached: () =>
      opsPerSecond(
        () => bearerToken,
        (token) => verifier.verify(token),
        input.roundMs,
      ),
    dpop: () => opsPerSecond(proof, (dpop) => verifier.verify(boundToken, presentation(dpop)), input.roundMs),
    cryptoVerify: () =>
      opsPerSecond(
        () => undefined,
        () => {
          if (
            !cryptoVerify('sha256', signingInput, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)
          ) {
            throw new Error('signature did not verify');
          }
        },
        input.roundMs,
      ),
    // What the proof check would cost through jose 6 (WebCrypto), for comparison.
    joseJwtVerify: () =>
      opsPerSecond(
        proof,
        (dpop) => jwtVerify(dpop, joseKey, { typ: 'dpop+jwt', algorithms: ['ES256'] }),
        input.roundMs,
      ),
  };
  // Fails loudly if a token or proof does not verify; fills the JWKS, result and key caches; warms up.
  await verifier.verify(bearerToken);
  await verifier.verify(boundToken, presentation(proof()));
  for (const op of Object.values(ops)) await op();
  const samples: Record<string, number[]> = {
    bearerCached: [],
    dpop: [],
    cryptoVerify: [],
    joseJwtVerify: [],
  };
  for (let round = 0; round < input.rounds; round++) {
    for (const [name, op] of Object.entries(ops)) samples[name]?.push(await op());
  }
  verifier.close();
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as DpopVerifierResult;
});
