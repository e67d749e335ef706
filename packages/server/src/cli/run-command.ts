import { readClientsFile } from '../clients/clients-file.ts';
import type { Config } from '../config/config.ts';
import { epochSeconds } from '../signing-keys/signing-key-record.ts';
import { openAdminStore } from './admin-store.ts';
import { clientsAdd, clientsList, clientsRemove, type FileClients } from './clients-commands.ts';
import { configCheck } from './config-check.ts';
import { keysList, keysRotate } from './keys-commands.ts';
import { type Command, USAGE } from './parse-command.ts';
import { checkWithProvider } from './provider-client-check.ts';
import { runUsersCommand } from './users-commands.ts';

/** The clients of GATEHOUSE_CLIENTS_FILE, read as the server reads them at start. */
function fileClients(config: Config): FileClients | undefined {
  return config.clientsFile
    ? { path: config.clientsFile, clients: readClientsFile(config.clientsFile) }
    : undefined;
}

/**
 * Runs one parsed command and returns what it prints on stdout. Commands that work on the
 * store open Redis for the duration of the command only.
 *
 * @example
 * process.stdout.write(`${await runCommand(parseCommand(argv), loadConfig())}\n`);
 */
export async function runCommand(command: Command, config: Config): Promise<string> {
  switch (command.name) {
    case 'help':
      return USAGE;
    case 'config check':
      return configCheck(config);
    default: {
      const store = await openAdminStore(config);
      try {
        switch (command.name) {
          case 'keys list':
            return await keysList(store.keys, config, { json: command.json, now: epochSeconds() });
          case 'keys rotate':
            return await keysRotate(store.keys, config, { alg: command.alg, now: epochSeconds() });
          case 'clients add':
            return await clientsAdd(store.clients, command.metadata, {
              check: (metadata) => checkWithProvider(config, metadata),
            });
          case 'clients list':
            return await clientsList(store.clients, { json: command.json, file: fileClients(config) });
          case 'clients remove':
            return await clientsRemove(store.clients, command.clientId, fileClients(config));
          case 'users add':
          case 'users disable':
          case 'users revoke':
            return await runUsersCommand(command, store);
        }
      } finally {
        await store.close();
      }
    }
  }
}
