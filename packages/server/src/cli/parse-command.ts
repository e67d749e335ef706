import { parseArgs } from 'node:util';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../signing-keys/signing-key-record.ts';
import { CliError } from './cli-error.ts';

/** A parsed `gatehouse` invocation. */
export type Command =
  | { readonly name: 'help' }
  | { readonly name: 'keys list'; readonly json: boolean }
  | { readonly name: 'keys rotate'; readonly alg: SigningAlgorithm | undefined }
  | { readonly name: 'clients add'; readonly metadata: string }
  | { readonly name: 'clients list'; readonly json: boolean }
  | { readonly name: 'clients remove'; readonly clientId: string }
  | { readonly name: 'config check' }
  | {
      readonly name: 'users add';
      readonly email: string;
      readonly password: string;
      readonly verified: boolean;
      readonly displayName: string | undefined;
    }
  | { readonly name: 'users disable'; readonly email: string }
  | { readonly name: 'users revoke'; readonly email: string };

export const USAGE = `usage: gatehouse <command>

  keys list [--json]                  signing keys and their state (no private material)
  keys rotate [--alg ES256|EdDSA]     add a key: published now, signing after JWKS caches expire
  clients add --json '<metadata>'     register a client (RFC 7591 metadata); prints it, secret included
  clients list [--json]               clients of GATEHOUSE_CLIENTS_FILE and of Redis, by source (no secrets)
  clients remove <client_id>          delete a client stored in Redis (file clients: edit the file)
  config check                        the effective configuration, secrets masked
  users add --email E --password P [--verified] [--name N]
                                      create an account (password 12-256 characters)
  users disable <email>               refuse sign-in; the user's refresh tokens stop working at once
  users revoke <email>                end every session and grant of the user

Configuration comes from the environment (REDIS_URL or REDIS_CLUSTER_NODES, GATEHOUSE_SECRET, ...).`;

type OptionSpec = Record<string, { type: 'string' | 'boolean' }>;

/** Parses one command's flags strictly, so a typo is an error rather than silently ignored. */
function parseFlags(command: string, args: string[], options: OptionSpec, positionals: number) {
  let parsed: ReturnType<typeof parseArgs<{ options: OptionSpec; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    // Keep parseArgs' first sentence ("Unknown option '--jsn'"), not its advice on `--`.
    throw new CliError(`${command}: ${(err as Error).message.split(/\.\s|\n/)[0]}`);
  }
  if (parsed.positionals.length !== positionals) {
    throw new CliError(
      positionals === 0
        ? `${command}: unexpected argument "${parsed.positionals[0]}"`
        : `${command}: expected ${positionals} argument${positionals === 1 ? '' : 's'}, got ${parsed.positionals.length}`,
    );
  }
  return parsed;
}

const flag = (value: string | boolean | (string | boolean)[] | undefined) => value === true;

/**
 * Turns `argv` (without `node` and the script) into a {@link Command}. Throws {@link CliError}
 * naming the problem for an unknown command, a missing argument or an unknown flag.
 *
 * @example
 * parseCommand(['clients', 'remove', 'abc']); // { name: 'clients remove', clientId: 'abc' }
 */
export function parseCommand(argv: readonly string[]): Command {
  const [group, action, ...rest] = argv;
  if (group === undefined || group === 'help' || group === '--help' || group === '-h')
    return { name: 'help' };
  const command = `${group} ${action ?? ''}`.trim();
  switch (command) {
    case 'keys list':
      return {
        name: command,
        json: flag(parseFlags(command, rest, { json: { type: 'boolean' } }, 0).values.json),
      };
    case 'keys rotate': {
      const alg = parseFlags(command, rest, { alg: { type: 'string' } }, 0).values.alg;
      if (alg !== undefined && !SIGNING_ALGORITHMS.includes(alg as SigningAlgorithm)) {
        throw new CliError(
          `keys rotate: --alg must be one of ${SIGNING_ALGORITHMS.join(', ')}, got "${alg}"`,
        );
      }
      return { name: command, alg: alg as SigningAlgorithm | undefined };
    }
    case 'clients add': {
      const metadata = parseFlags(command, rest, { json: { type: 'string' } }, 0).values.json;
      if (typeof metadata !== 'string')
        throw new CliError(`clients add: --json '<client metadata>' is required`);
      return { name: command, metadata };
    }
    case 'clients list':
      return {
        name: command,
        json: flag(parseFlags(command, rest, { json: { type: 'boolean' } }, 0).values.json),
      };
    case 'clients remove': {
      const [clientId] = parseFlags(command, rest, {}, 1).positionals;
      return { name: command, clientId: String(clientId) };
    }
    case 'config check':
      parseFlags(command, rest, {}, 0);
      return { name: command };
    case 'users add': {
      const { values } = parseFlags(
        command,
        rest,
        {
          email: { type: 'string' },
          password: { type: 'string' },
          verified: { type: 'boolean' },
          name: { type: 'string' },
        },
        0,
      );
      if (typeof values.email !== 'string') throw new CliError('users add: --email is required');
      if (typeof values.password !== 'string') throw new CliError('users add: --password is required');
      return {
        name: command,
        email: values.email,
        password: values.password,
        verified: flag(values.verified),
        displayName: typeof values.name === 'string' ? values.name : undefined,
      };
    }
    case 'users disable':
    case 'users revoke': {
      const [email] = parseFlags(command, rest, {}, 1).positionals;
      return { name: command, email: String(email) };
    }
    default:
      throw new CliError(`unknown command "${command}" (gatehouse help lists the commands)`);
  }
}
