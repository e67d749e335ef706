/**
 * A failure the CLI reports as one line on stderr and exit code 1. `message` is written for
 * the operator: what went wrong and, where it helps, what to do.
 *
 * @example
 * throw new CliError('clients remove: no client "abc"');
 */
export class CliError extends Error {
  override name = 'CliError';
}
