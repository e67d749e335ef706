import { join } from 'node:path';
import { startRedis } from '@gatehouse/testkit';
import { BENCH_DIR, runWorker } from '../support/child.ts';
import type { BenchContext } from '../support/context.ts';
import { COST_BUDGET, OPERATIONS, type Operation, type OperationCost } from '../support/cost-budget.ts';
import type { Figure } from '../support/figure.ts';
import type { CostInput } from '../workers/cost-per-operation.ts';

const SCENARIO = '9 cost per operation';

/**
 * Scenario 9: Redis round trips and commands per operation, counted (not timed, so the same on
 * any machine): a Gatehouse process on a Redis of its own, see `measureCostPerOperation`.
 * The targets are the documented budget that `bench/test/cost-per-operation.test.ts` enforces.
 */
export async function costPerOperation(ctx: BenchContext): Promise<Figure[]> {
  const redis = await startRedis();
  try {
    const costs = await runWorker<Record<Operation, OperationCost>>(
      join(BENCH_DIR, 'workers/cost-per-operation.ts'),
      {
        redisUrl: redis.url,
        times: ctx.quick ? 2 : 5,
      } satisfies CostInput,
    );
    return OPERATIONS.flatMap((operation): Figure[] => {
      const cost = costs[operation];
      const budget = COST_BUDGET[operation];
      return [
        {
          scenario: SCENARIO,
          name: `${operation}: Redis round trips`,
          value: cost.roundTrips,
          unit: 'round trips',
          target: `<= ${budget.roundTrips}`,
          pass: cost.roundTrips <= budget.roundTrips,
          note: 'requests the server process wrote to Redis (a pipeline or MULTI/EXEC is one)',
        },
        {
          scenario: SCENARIO,
          name: `${operation}: Redis commands`,
          value: cost.commands,
          unit: 'commands',
          target: `<= ${budget.commands}`,
          pass: cost.commands <= budget.commands,
          note: Object.entries(cost.byCommand)
            .map(([name, calls]) => `${name} ${calls}`)
            .join(', '),
        },
      ];
    });
  } finally {
    await redis.cleanup();
  }
}
