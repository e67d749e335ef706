import { describe, expect, it } from 'vitest';
import { parseRevocationEvent } from './revocations.ts';

describe('parseRevocationEvent', () => {
  it('reads grant revocations', () => {
    expect(parseRevocationEvent('{"type":"grant","id":"g1","exp":1767225600}')).toEqual({
      type: 'grant',
      id: 'g1',
      exp: 1767225600,
    });
  });

  it.each([
    'not json',
    'null',
    '[]',
    '{"type":"session","id":"s","exp":1}',
    // Revocation is per grant: the server never publishes single tokens.
    '{"type":"jti","id":"j1","exp":1}',
    '{"type":"grant","id":"","exp":1}',
    '{"type":"grant","id":"g"}',
    '{"type":"grant","id":"g","exp":"1"}',
  ])('ignores the malformed message %s', (message) => {
    expect(parseRevocationEvent(message)).toBeUndefined();
  });
});
