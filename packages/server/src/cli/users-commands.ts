import { AccountError, createAccountStore, revokeAccountAccess } from '../accounts/index.ts';
import type { AdminStore } from './admin-store.ts';
import { CliError } from './cli-error.ts';
import type { Command } from './parse-command.ts';

type UsersCommand = Extract<Command, { name: 'users add' | 'users disable' | 'users revoke' }>;

/**
 * `users add|disable|revoke` on the Redis account store. A disabled account's tokens stop
 * working at once (the provider's account lookup answers "no such account"); `revoke`
 * additionally destroys every grant, which reaches resource servers as revocation events.
 */
export async function runUsersCommand(command: UsersCommand, store: AdminStore): Promise<string> {
  const accounts = createAccountStore({ kind: 'redis', conn: store.conn });
  try {
    switch (command.name) {
      case 'users add': {
        const account = await accounts.create({
          email: command.email,
          password: command.password,
          emailVerified: command.verified,
          ...(command.displayName !== undefined ? { name: command.displayName } : {}),
        });
        return JSON.stringify({
          id: account.id,
          email: account.email,
          email_verified: account.emailVerified,
        });
      }
      case 'users disable':
        await accounts.setDisabled(command.email, true);
        return `disabled ${command.email}`;
      case 'users revoke': {
        const { grantIds } = await revokeAccountAccess(accounts, command.email, (grantId) =>
          store.grants.revokeByGrantId(grantId),
        );
        return `revoked every session and ${grantIds.length} grant(s) of ${command.email}`;
      }
    }
  } catch (err) {
    if (err instanceof AccountError) throw new CliError(`${command.name}: ${err.message}`);
    throw err;
  }
}
