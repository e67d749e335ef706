import { connect } from 'node:net';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { describe, expect, it } from 'vitest';
import { REQUEST_TIMEOUTS } from '../../src/http/request-timeouts.ts';

// The attack ("slowloris"): open many connections and send each request a byte at a time, or not at
// all after its first line. Node waits 60 s for headers and 5 minutes for a request by default,
// checking every 30 s; enough such sockets exhaust the process's file descriptors.

/** Sends `head`, then nothing; resolves with what the server answered and when it closed (ms). */
function stall(url: string, head: string): Promise<{ answer: string; closedAfterMs: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let answer = '';
    const socket = connect(Number(port), hostname === 'localhost' ? '127.0.0.1' : hostname, () =>
      socket.write(head),
    );
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ answer, closedAfterMs: Date.now() - started }));
    setTimeout(() => {
      socket.destroy();
      reject(new Error('the server kept the stalled connection open for 10 s'));
    }, 10_000).unref();
  });
}

describe('clients that send their request slowly (real server, real Redis)', () => {
  const timeouts = { headersMs: 1_000, requestMs: 2_000 };
  const errors: unknown[] = [];
  const gh = suiteGatehouse({ gatehouse: { requestTimeouts: timeouts, onError: (err) => errors.push(err) } });

  it('answers 408 and closes a connection whose headers do not arrive in time', async () => {
    const { answer, closedAfterMs } = await stall(
      gh.issuer,
      'GET /.well-known/openid-configuration HTTP/1.1\r\nHost: localhost\r\nAccept: appl',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfterMs).toBeGreaterThanOrEqual(timeouts.headersMs - 100);
    expect(closedAfterMs).toBeLessThan(timeouts.headersMs + 2_500);
  });

  it('answers 408 and closes a connection whose body does not arrive in time', async () => {
    const { answer, closedAfterMs } = await stall(
      gh.issuer,
      'POST /token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\ngrant_type=',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfterMs).toBeGreaterThanOrEqual(timeouts.requestMs - 100);
    expect(closedAfterMs).toBeLessThan(timeouts.requestMs + 2_500);
    // A client that hung up is not a server error: nothing is reported.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(errors).toEqual([]);
  });

  it('serves a request that arrives in time as usual', async () => {
    const response = await fetch(`${gh.issuer}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
  });
});

describe('the limits a server listens with by default', () => {
  const gh = suiteGatehouse();

  it(`gives headers ${REQUEST_TIMEOUTS.headersMs / 1000} s and a whole request ${REQUEST_TIMEOUTS.requestMs / 1000} s, checked every second`, async () => {
    expect((await fetch(`${gh.issuer}/.well-known/openid-configuration`)).status).toBe(200);
    const { server } = await gh.server.listen(0);
    try {
      expect(server.headersTimeout).toBe(REQUEST_TIMEOUTS.headersMs);
      expect(server.requestTimeout).toBe(REQUEST_TIMEOUTS.requestMs);
    } finally {
      server.close();
    }
  });
});
