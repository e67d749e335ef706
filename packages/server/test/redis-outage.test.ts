import { basic, SERVICE_SECRET } from '@gatehouse/testkit/clients';
import { postForm } from '@gatehouse/testkit/forms';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { signIn } from '@gatehouse/testkit/sign-in';
import { describe, expect, it } from 'vitest';

describe('Redis stopped and restarted mid-test', () => {
  const gh = suiteGatehouse({
    // AOF so the restart keeps what was issued before it.
    redis: { args: ['--appendonly', 'yes', '--appendfsync', 'always'] },
    gatehouse: { onError: () => {} },
  });

  it('answers 503 + Retry-After (JSON) while Redis is down, and recovers by itself', async () => {
    const { refreshToken } = await signIn(gh.server, gh.issuer);
    await gh.redis.stop();

    const refresh = await postForm(`${gh.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: 'spa',
    });
    expect(refresh.status).toBe(503);
    expect(refresh.headers.get('retry-after')).toBe('1');
    expect(refresh.body).toMatchObject({ error: 'temporarily_unavailable' });

    // Client authentication is throttled with counters in Redis, so it fails closed too.
    const cc = await postForm(
      `${gh.issuer}/token`,
      { grant_type: 'client_credentials', scope: 'recipes:read' },
      basic('service', SERVICE_SECRET),
    );
    expect(cc.status).toBe(503);
    expect(cc.headers.get('retry-after')).toBe('1');
    expect(cc.body).toMatchObject({ error: 'temporarily_unavailable' });

    const ready = await fetch(`${gh.issuer}/readyz`);
    expect(ready.status).toBe(503);
    expect((await fetch(`${gh.issuer}/healthz`)).status).toBe(200);

    await gh.redis.restart();
    // Recovery without restarting Gatehouse: poll, never assert a duration.
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await fetch(`${gh.issuer}/readyz`)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    const after = await postForm(`${gh.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: 'spa',
    });
    expect(after.status).toBe(200);
  });
});
