import type { GatehouseProcess } from './gatehouse-process.ts';

/** What every scenario gets from the runner. */
export interface BenchContext {
  readonly quick: boolean;
  /** Logical CPUs of the machine (anchors are given per vCPU). */
  readonly cpus: number;
  /** Seconds of one measured load round, and how many rounds per side (A B A B …). */
  readonly roundSeconds: number;
  readonly rounds: number;
  readonly connections: number;
  /** A private Redis with one Gatehouse process on it, shared by the load scenarios. */
  readonly redisUrl: string;
  readonly gatehouse: GatehouseProcess;
  /** A scratch directory removed at the end of the run. */
  readonly tmpDir: string;
  /** Progress line on stderr (stdout carries the table). */
  log(message: string): void;
}
