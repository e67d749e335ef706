import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { logSecurityEvent, trackSigningKey } from '../../src/observability/security-events.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(
    { env: 'production' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { log, lines, metrics: createMetrics({ processMetrics: false }) };
}

async function value(metrics: ReturnType<typeof createMetrics>, series: string): Promise<number | undefined> {
  const line = (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('logSecurityEvent', () => {
  it('writes the event as its own warn line and counts sign-in failures and lockouts', async () => {
    const { log, lines, metrics } = capture();
    logSecurityEvent(
      log,
      { type: 'login_failed', reason: 'invalid_credentials', accountId: 'acc-1', ip: '203.0.113.9' },
      metrics,
    );
    logSecurityEvent(log, { type: 'login_failed', reason: 'disabled', ip: '203.0.113.9' }, metrics);
    logSecurityEvent(
      log,
      { type: 'lockout', scope: 'account', accountId: 'acc-1', retryAfterSeconds: 900 },
      metrics,
    );
    expect(lines[0]).toMatchObject({
      level: 40,
      security: true,
      event: 'login_failed',
      reason: 'invalid_credentials',
      accountId: 'acc-1',
      msg: 'security: login_failed',
    });
    expect(lines[2]).toMatchObject({ event: 'lockout', scope: 'account', retryAfterSeconds: 900 });
    expect(await value(metrics, 'gatehouse_login_failures_total{reason="invalid_credentials"}')).toBe(1);
    expect(await value(metrics, 'gatehouse_login_failures_total{reason="disabled"}')).toBe(1);
    expect(await value(metrics, 'gatehouse_lockouts_total{scope="account"}')).toBe(1);
  });

  it('logs without metrics too', () => {
    const { log, lines } = capture();
    logSecurityEvent(log, { type: 'grant_revoked', grantId: 'g-1', by: 'users revoke' });
    expect(lines[0]).toMatchObject({ level: 30, event: 'grant_revoked', grantId: 'g-1', by: 'users revoke' });
  });
});

describe('trackSigningKey', () => {
  it('logs key_rotated when the signing key changes, not at start and not for the same key', async () => {
    const { log, lines, metrics } = capture();
    const onKeys = trackSigningKey(log, metrics);
    onKeys({ jwks: [{ kid: 'k1' }] });
    onKeys({ jwks: [{ kid: 'k1' }, { kid: 'k2' }] }); // k2 pre-published: k1 still signs
    expect(lines).toHaveLength(0);
    onKeys({ jwks: [{ kid: 'k2' }, { kid: 'k1' }] });
    expect(lines).toEqual([expect.objectContaining({ event: 'key_rotated', kid: 'k2', previousKid: 'k1' })]);
    expect(await value(metrics, 'gatehouse_signing_key_rotations_total')).toBe(1);
  });
});
