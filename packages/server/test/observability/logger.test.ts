import { describe, expect, it } from 'vitest';
import { createLogger, serializeError } from '../../src/observability/logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(
    { env: 'production' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { log, lines };
}

describe('createLogger', () => {
  it('writes one JSON object per line at info in production, with service and ISO time', () => {
    const { log, lines } = capture();
    log.debug('hidden');
    log.info({ route: 'token' }, 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, service: 'gatehouse', route: 'token', msg: 'request' });
    expect(String(lines[0]?.time)).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('redacts credential fields at the top level and two levels down', () => {
    const { log, lines } = capture();
    log.warn(
      {
        password: 'p1-secret',
        body: { client_secret: 'p2-secret', refresh_token: 'p3-secret', nested: { code: 'p4-secret' } },
        headers: { authorization: 'Basic p5-secret', cookie: 'a=p6-secret', 'set-cookie': 'b=p7-secret' },
        params: { code_verifier: 'p8-secret', token: 'p9-secret', access_token: 'p10-secret' },
        clientId: 'visible-client',
      },
      'context',
    );
    const text = JSON.stringify(lines[0]);
    expect(text).not.toMatch(/p\d+-secret/);
    expect(text).toContain('[redacted]');
    expect(text).toContain('visible-client');
  });

  it('serializes errors by allow-list: an ioredis command and its arguments (token ids) stay out', () => {
    const { log, lines } = capture();
    const redisError = Object.assign(new Error('Command timed out'), {
      code: 'ETIMEDOUT',
      command: { name: 'get', args: ['gatehouse:RefreshToken:opaque-refresh-token-value'] },
      args: ['opaque-refresh-token-value'],
    });
    const wrapped = Object.assign(new Error('temporarily_unavailable', { cause: redisError }), {
      status: 503,
      error: 'temporarily_unavailable',
      error_description: 'the token store is unavailable, retry shortly',
    });
    log.error({ err: wrapped }, 'unexpected error');
    // Under another key the error is not serialized by allow-list; the redaction still holds.
    log.error({ failure: redisError }, 'redis failure');
    expect(JSON.stringify(lines[1])).not.toContain('opaque-refresh-token-value');
    const text = JSON.stringify(lines[0]);
    expect(text).not.toContain('opaque-refresh-token-value');
    expect(lines[0]?.err).toMatchObject({
      type: 'Error',
      status: 503,
      error: 'temporarily_unavailable',
      cause: { type: 'Error', message: 'Command timed out', errorCode: 'ETIMEDOUT' },
    });
  });

  it('passes non-errors through the error serializer unchanged', () => {
    expect(serializeError('text')).toBe('text');
  });

  it('is quiet under NODE_ENV=test unless asked', () => {
    const lines: string[] = [];
    const log = createLogger({ env: 'test' }, { write: (line: string) => void lines.push(line) });
    log.info('hidden');
    log.warn('shown');
    expect(lines).toHaveLength(1);
  });
});
