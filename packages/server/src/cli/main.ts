#!/usr/bin/env node
import { ConfigError, loadConfig } from '../config/config.ts';
import { SigningKeyError } from '../signing-keys/signing-key-error.ts';
import { CliError } from './cli-error.ts';
import { parseCommand } from './parse-command.ts';
import { runCommand } from './run-command.ts';

// `pnpm gatehouse <command>`: the process edge of the admin CLI. Success prints to stdout and
// exits 0; any failure is one line on stderr and exit 1, never a stack trace.

/** One line for the operator: our own errors speak for themselves, others get their name. */
function describe(err: unknown): string {
  const expected = err instanceof CliError || err instanceof ConfigError || err instanceof SigningKeyError;
  const message = err instanceof Error ? err.message : String(err);
  const line = message.split('\n')[0]?.trim() || 'unknown error';
  return expected || !(err instanceof Error) ? line : `${err.name}: ${line}`;
}

try {
  const command = parseCommand(process.argv.slice(2));
  // The CLI is a process entry like the server's main.ts: the one other place that hands
  // the environment to loadConfig.
  const output = await runCommand(command, loadConfig(process.env));
  process.stdout.write(`${output}\n`);
} catch (err) {
  process.stderr.write(`gatehouse: ${describe(err)}\n`);
  process.exitCode = 1;
}
