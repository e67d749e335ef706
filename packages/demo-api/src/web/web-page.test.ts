import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoApi, type DemoApi } from '../app.ts';

let api: DemoApi;
let server: Server;
let base: string;
beforeAll(async () => {
  api = createDemoApi({ issuer: 'http://localhost:4000', apiUrl: 'http://localhost:4001' });
  server = api.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  api.close();
  server.close();
});

describe('the demo page', () => {
  it('is served at / and /callback with a strict CSP that allows only the issuer and the API', async () => {
    for (const path of ['/', '/callback']) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("connect-src 'self' http://localhost:4000 http://localhost:4001");
      expect(csp).not.toContain('unsafe');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      const html = await response.text();
      expect(html).toContain('data-issuer="http://localhost:4000"');
      expect(html).toContain('data-client-id="demo-spa"');
      expect(html).toContain('data-token-storage="hybrid"');
      expect(html).not.toMatch(/<script>|\son[a-z]+=/i); // no inline script or handlers
    }
  });

  it('serves its script (bundled with the SDK) and stylesheet', async () => {
    await api.prepareWebPage();
    const script = await fetch(`${base}/assets/demo.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await script.text()).toContain('gatehouse-refresh:'); // the SDK's Web Lock name
    const css = await fetch(`${base}/assets/styles.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('leaves other methods and paths to the API', async () => {
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/assets/other.js`)).status).toBe(404);
  });

  it('is absent with `web: false`', async () => {
    const bare = createDemoApi({
      issuer: 'http://localhost:4000',
      apiUrl: 'http://localhost:4001',
      web: false,
    });
    const listening = bare.listen(0, '127.0.0.1');
    await once(listening, 'listening');
    const port = (listening.address() as AddressInfo).port;
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
    bare.close();
    listening.close();
  });
});
