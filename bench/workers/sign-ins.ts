import { writeFile } from 'node:fs/promises';
import { REDIRECT_URI, WEB_SECRET } from '@gatehouse/testkit/clients';
import { authorize, startInteractionDriver } from '@gatehouse/testkit/sign-in';
import * as oidc from 'openid-client';
import { workerMain } from '../support/child.ts';
import { benchClientAddress } from '../support/gatehouse-process.ts';

export interface SignInsInput {
  readonly issuer: string;
  readonly redisUrl: string;
  readonly secret: string;
  readonly count: number;
  readonly concurrency: number;
  readonly clientId: 'spa' | 'web';
  /** Distinct users signing in, round robin (`bench-user-<i>`). @default 20 */
  readonly users?: number;
  /** Server configuration the driver must share with the server (REFRESH_TOKEN_TTL: grants it saves expire with it). */
  readonly env?: Record<string, string>;
  /** Where to write `{ accessToken, refreshToken }[]`; omitted: tokens are dropped. */
  readonly out?: string;
}

export interface SignInsResult {
  readonly count: number;
  readonly seconds: number;
}

/**
 * Full code flows (PKCE, login + consent, code exchange) against a server in another process.
 * The user's part is played by a Gatehouse instance on the same Redis and secret that never
 * listens: it completes each interaction through oidc-provider's models, as the sign-in pages would.
 */
workerMain<SignInsInput, SignInsResult>(async (input) => {
  const driver = await startInteractionDriver({
    issuer: input.issuer,
    redisUrl: input.redisUrl,
    secret: input.secret,
    ...(input.env ? { env: input.env } : {}),
  });
  const users = input.users ?? 20;
  // The testkit's user agent creates each user's account on first use (argon2id: the first
  // sign-in of a user costs a password hash); later sign-ins of the same user do not.
  const auth = input.clientId === 'web' ? oidc.ClientSecretBasic(WEB_SECRET) : oidc.None();
  const client = await oidc.discovery(new URL(input.issuer), input.clientId, undefined, auth, {
    execute: [oidc.allowInsecureRequests],
  });
  const tokens: { accessToken: string; refreshToken: string }[] = [];
  const started = performance.now();
  let next = 0;
  const signInOne = async (i: number) => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(client, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid offline_access recipes:read',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const callback = await authorize(driver, url, `bench-user-${i % users}`, {
      forwardedFor: benchClientAddress(i),
    });
    const response = await oidc.authorizationCodeGrant(client, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    if (!response.refresh_token) throw new Error('no refresh token issued');
    if (input.out) tokens.push({ accessToken: response.access_token, refreshToken: response.refresh_token });
  };
  await Promise.all(
    Array.from({ length: input.concurrency }, async () => {
      while (next < input.count) await signInOne(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  if (input.out) await writeFile(input.out, JSON.stringify(tokens));
  await driver.close();
  return { count: input.count, seconds };
});
