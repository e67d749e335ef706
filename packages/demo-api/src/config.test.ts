import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('defaults to port 4001, the local issuer, its own URL as API_URL and the in-process store', () => {
    expect(loadConfig({})).toEqual({
      port: 4001,
      issuer: 'http://localhost:4000',
      apiUrl: 'http://localhost:4001',
      redisUrl: undefined,
    });
    expect(loadConfig({ PORT: '5000' }).apiUrl).toBe('http://localhost:5000');
  });

  it('reads and normalizes the environment, refusing invalid values by name', () => {
    expect(
      loadConfig({
        PORT: '8080',
        ISSUER: 'https://auth.example.com/',
        API_URL: 'https://api.example.com',
        REDIS_URL: 'redis://r:6379',
      }),
    ).toEqual({
      port: 8080,
      issuer: 'https://auth.example.com',
      apiUrl: 'https://api.example.com',
      redisUrl: 'redis://r:6379',
    });
    expect(() => loadConfig({ PORT: 'x' })).toThrow(/PORT/);
    expect(() => loadConfig({ ISSUER: 'ftp://x' })).toThrow(/ISSUER/);
    expect(() => loadConfig({ API_URL: 'not a url' })).toThrow(/API_URL/);
  });
});
