/** The documented Redis cost per operation, apart from the measurement: the runner reads it without loading the server. */
/** The operations whose Redis cost the bench reports and the cost test holds to {@link COST_BUDGET}. */
export const OPERATIONS = [
  'client-credentials grant',
  'full sign-in (authorize → sign-in page → consent → code → token)',
  'sign-in pages (authorize → code)',
  'code exchange',
  'refresh (rotation)',
  'introspection of a JWT access token',
  'introspection of an opaque refresh token',
  'revocation of a refresh token',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface OperationCost {
  /** Requests the server sent to Redis (one per single command, one per pipeline or MULTI/EXEC). */
  readonly roundTrips: number;
  /** Commands Redis executed (`INFO commandstats`): an EVALSHA and each command its script runs, by name. */
  readonly commands: number;
  readonly byCommand: Readonly<Record<string, number>>;
}

/**
 * The documented cost of each operation (docs/performance.md shows it as the target): the cost
 * test fails when an operation needs more. A change that adds a round trip or a command to one
 * of these paths must raise the figure here, in the same commit, and say why.
 */
export const COST_BUDGET: Readonly<Record<Operation, { roundTrips: number; commands: number }>> = {
  'client-credentials grant': { roundTrips: 0, commands: 0 },
  'full sign-in (authorize → sign-in page → consent → code → token)': { roundTrips: 23, commands: 96 },
  'sign-in pages (authorize → code)': { roundTrips: 19, commands: 79 },
  'code exchange': { roundTrips: 4, commands: 17 },
  'refresh (rotation)': { roundTrips: 4, commands: 16 },
  'introspection of a JWT access token': { roundTrips: 1, commands: 1 },
  'introspection of an opaque refresh token': { roundTrips: 3, commands: 6 },
  'revocation of a refresh token': { roundTrips: 7, commands: 30 },
};
