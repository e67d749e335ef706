import { workerMain } from '../support/child.ts';
import type { Operation, OperationCost } from '../support/cost-budget.ts';
import { measureCostPerOperation } from '../support/cost-per-operation.ts';

export interface CostInput {
  readonly redisUrl: string;
  readonly times: number;
}

// A worker: the sign-in helpers load the server's sources, which only the workspace node flags resolve.
workerMain<CostInput, Record<Operation, OperationCost>>((input) => measureCostPerOperation(input));
