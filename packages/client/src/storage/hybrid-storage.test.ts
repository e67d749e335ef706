import { describe, expect, it } from 'vitest';
import { hybridStorage } from './hybrid-storage.ts';
import { memoryStorage } from './memory-storage.ts';

describe('hybridStorage', () => {
  it('keeps access tokens in memory and everything else in the persistent storage', async () => {
    const persistent = memoryStorage();
    const storage = hybridStorage(persistent);
    await storage.set('gatehouse:x:access', 'at');
    await storage.set('gatehouse:x:session', 'rt');
    expect(await storage.get('gatehouse:x:access')).toBe('at');
    expect(await persistent.get('gatehouse:x:access')).toBeUndefined();
    expect(await persistent.get('gatehouse:x:session')).toBe('rt');
  });
});
