import type { Cluster, Redis } from 'ioredis';

/**
 * Where the state of one server instance lives: Redis (standalone or Cluster), shared by every
 * instance, or this process (development only, lost on restart). `createStore` chooses it once
 * from the configuration and builds every stateful part on it; the parts' own constructors
 * (`createAccountStore`, `createRateLimiter`) take it too, for tests and the CLI.
 */
export type StoreBackend =
  | { readonly kind: 'redis'; readonly conn: Redis | Cluster }
  | { readonly kind: 'memory' };
