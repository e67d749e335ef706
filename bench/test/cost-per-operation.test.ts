import { startRedis } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COST_BUDGET, OPERATIONS, type Operation, type OperationCost } from '../support/cost-budget.ts';
import { measureCostPerOperation } from '../support/cost-per-operation.ts';

// Counts, not timings: the same on any machine, so the documented figures can be held exactly.
describe('Redis cost per operation (the figures docs/performance.md documents)', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let costs: Record<Operation, OperationCost>;
  beforeAll(async () => {
    redis = await startRedis();
    costs = await measureCostPerOperation({ redisUrl: redis.url, times: 2 });
  }, 120_000);
  afterAll(async () => {
    await redis?.cleanup();
  });

  it.each(OPERATIONS)('%s needs no more Redis round trips and commands than documented', (operation) => {
    const cost = costs[operation];
    const budget = COST_BUDGET[operation];
    const why = `${operation}: ${JSON.stringify(cost.byCommand)}. A change that needs more must raise COST_BUDGET in bench/support/cost-per-operation.ts and say why`;
    expect(cost.roundTrips, why).toBeLessThanOrEqual(budget.roundTrips);
    expect(cost.commands, why).toBeLessThanOrEqual(budget.commands);
  });

  it('sees the round trips it counts (a refresh reads and rotates its grant in Redis)', () => {
    expect(costs['refresh (rotation)'].roundTrips).toBeGreaterThan(0);
    expect(costs['refresh (rotation)'].commands).toBeGreaterThanOrEqual(
      costs['refresh (rotation)'].roundTrips,
    );
  });
});
