import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SignInsInput, SignInsResult } from '../workers/sign-ins.ts';
import { BENCH_DIR, runWorker } from './child.ts';
import { BENCH_SECRET } from './gatehouse-process.ts';

export interface IssuedTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
}

/** `count` full sign-ins (code flow + PKCE) against `issuer`, run from a separate process. */
export async function signIns(
  input: Omit<SignInsInput, 'secret' | 'concurrency'> & { concurrency?: number },
): Promise<SignInsResult> {
  return runWorker<SignInsResult>(
    join(BENCH_DIR, 'workers/sign-ins.ts'),
    { concurrency: 8, secret: BENCH_SECRET, ...input },
    { timeoutMs: 900_000 },
  );
}

/** Signs in `count` times and returns the issued tokens. */
export async function issueTokens(
  input: Omit<SignInsInput, 'secret' | 'concurrency' | 'out'> & { dir: string },
): Promise<IssuedTokens[]> {
  const out = join(input.dir, `tokens-${input.clientId}-${Date.now()}.json`);
  await signIns({ ...input, out });
  return JSON.parse(await readFile(out, 'utf8')) as IssuedTokens[];
}
