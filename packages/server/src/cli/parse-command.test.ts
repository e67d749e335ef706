import { describe, expect, it } from 'vitest';
import { parseCommand } from './parse-command.ts';

describe('parseCommand', () => {
  it('parses every command', () => {
    expect(parseCommand([])).toEqual({ name: 'help' });
    expect(parseCommand(['keys', 'list'])).toEqual({ name: 'keys list', json: false });
    expect(parseCommand(['keys', 'list', '--json'])).toEqual({ name: 'keys list', json: true });
    expect(parseCommand(['keys', 'rotate', '--alg', 'EdDSA'])).toEqual({ name: 'keys rotate', alg: 'EdDSA' });
    expect(parseCommand(['keys', 'rotate'])).toEqual({ name: 'keys rotate', alg: undefined });
    expect(parseCommand(['clients', 'add', '--json', '{}'])).toEqual({ name: 'clients add', metadata: '{}' });
    expect(parseCommand(['clients', 'list'])).toEqual({ name: 'clients list', json: false });
    expect(parseCommand(['clients', 'remove', 'abc'])).toEqual({ name: 'clients remove', clientId: 'abc' });
    expect(parseCommand(['config', 'check'])).toEqual({ name: 'config check' });
    expect(parseCommand(['users', 'add', '--email', 'a@b', '--password', 'p', '--verified'])).toEqual({
      name: 'users add',
      email: 'a@b',
      password: 'p',
      verified: true,
      displayName: undefined,
    });
    expect(parseCommand(['users', 'revoke', 'a@b'])).toEqual({ name: 'users revoke', email: 'a@b' });
  });

  it.each([
    [['frob'], 'unknown command "frob"'],
    [['keys', 'list', '--jsn'], "keys list: Unknown option '--jsn'"],
    [['keys', 'rotate', '--alg', 'RS256'], 'keys rotate: --alg must be one of ES256, EdDSA'],
    [['clients', 'add'], "clients add: --json '<client metadata>' is required"],
    [['clients', 'remove'], 'clients remove: expected 1 argument, got 0'],
    [['clients', 'list', 'extra'], 'clients list: unexpected argument "extra"'],
  ])('refuses %j with one line', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(message);
    try {
      parseCommand(argv);
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
    }
  });
});
