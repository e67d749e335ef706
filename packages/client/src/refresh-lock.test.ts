import { describe, expect, it } from 'vitest';
import { TimeoutError } from './errors.ts';
import { inProcessLock, webLock } from './refresh-lock.ts';

async function overlaps(run: (task: () => Promise<void>) => Promise<void>): Promise<number> {
  let active = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: 5 }, () =>
      run(async () => {
        active++;
        most = Math.max(most, active);
        await new Promise((resolve) => setTimeout(resolve, 5));
        active--;
      }),
    ),
  );
  return most;
}

describe('inProcessLock', () => {
  it('runs tasks of one name one at a time, and survives a failing task', async () => {
    const lock = inProcessLock();
    expect(await overlaps((task) => lock.run('a', task))).toBe(1);
    await expect(lock.run('a', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(lock.run('a', async () => 'after')).resolves.toBe('after');
  });
});

describe('webLock (navigator.locks)', () => {
  it('runs tasks of one name one at a time', async () => {
    const lock = webLock(1_000);
    expect(lock).toBeDefined();
    expect(await overlaps((task) => lock!.run('gatehouse-test-serial', task))).toBe(1);
  });

  it('gives up waiting with TimeoutError when another holder does not release', async () => {
    const lock = webLock(50)!;
    let release!: () => void;
    const held = lock.run('gatehouse-test-held', () => new Promise<void>((resolve) => (release = resolve)));
    await expect(lock.run('gatehouse-test-held', async () => 'never')).rejects.toBeInstanceOf(TimeoutError);
    release();
    await held;
  });

  it('passes the task’s own error through', async () => {
    await expect(
      webLock(1_000)!.run('gatehouse-test-error', () => Promise.reject(new Error('own'))),
    ).rejects.toThrow('own');
  });
});
