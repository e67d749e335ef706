import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort } from '@gatehouse/testkit';
import { describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--conditions=@gatehouse/source', main], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  return { child, output: () => output };
}

describe('the server process', () => {
  it('starts on the in-process store with a loud warning, serves, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const { child, output } = run({ PORT: String(port) });
    let healthy = false;
    for (let i = 0; i < 100 && !healthy; i++) {
      healthy = await fetch(`http://localhost:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (!healthy) await new Promise((r) => setTimeout(r, 100));
    }
    expect(healthy).toBe(true);
    expect(output()).toMatch(/in-process store/i);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('with SHUTDOWN_DELAY, fails /readyz at SIGTERM but keeps serving until the delay is over, then exits 0', async () => {
    const port = await freePort();
    const base = `http://localhost:${port}`;
    const { child, output } = run({ PORT: String(port), SHUTDOWN_DELAY: '2' });
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      ready = await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready).toBe(true);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    // The load balancer's view: not ready, while the instance still answers everything else.
    await expect.poll(() => fetch(`${base}/readyz`).then((r) => r.status)).toBe(503);
    const readyz = await fetch(`${base}/readyz`);
    expect(await readyz.json()).toEqual({ status: 'shutting down' });
    const discovery = await fetch(`${base}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    expect(output()).toMatch(/\/readyz fails, still serving/);
    const [code] = await exited;
    expect(code).toBe(0);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('refuses to start in production without Redis and a secret, in one line, exit 1', async () => {
    const { child, output } = run({ NODE_ENV: 'production' });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(output().trim().split('\n')).toHaveLength(1);
    expect(output()).toMatch(/^gatehouse: NODE_ENV=production needs REDIS_URL/);
  });
});
