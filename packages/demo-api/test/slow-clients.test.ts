import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createDemoApi } from '../src/index.ts';

// The attack ("slowloris"): connections that send a request a byte at a time, or stop after its first
// line, each hold a socket; Node waits 60 s for headers and 5 minutes for a request by default.
describe('the demo API and clients that send their request slowly', () => {
  it('listens with 10 s for headers and 30 s for a request, and answers 408 to headers that stop coming', async () => {
    const api = createDemoApi({ issuer: 'http://127.0.0.1:9', apiUrl: 'http://127.0.0.1:9' });
    const server = api.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      expect(server.headersTimeout).toBe(10_000);
      expect(server.requestTimeout).toBe(30_000);

      const started = Date.now();
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      socket.write('GET /recipes HTTP/1.1\r\nHost: localhost\r\nAccept: appl');
      let answer = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => {
        answer += chunk;
      });
      await once(socket, 'close');
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(Date.now() - started).toBeGreaterThanOrEqual(9_900);
      expect(Date.now() - started).toBeLessThan(12_500);
    } finally {
      api.close();
      server.close();
    }
  }, 20_000);
});
