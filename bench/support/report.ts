import { cpus, totalmem } from 'node:os';
import type { Figure } from './figure.ts';

export interface Machine {
  readonly cpus: number;
  readonly model: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly date: string;
}

export function machine(): Machine {
  const list = cpus();
  return {
    cpus: list.length,
    model: list[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
  };
}

/** A plain-text table, one row per figure, for stdout. */
export function formatTable(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [
    f.scenario,
    f.name,
    `${formatNumber(f.value)} ${f.unit}`,
    f.ratio === undefined ? '' : String(f.ratio),
    f.target ?? '',
    f.pass === undefined ? '' : f.pass ? 'pass' : 'MISS',
    f.note ?? '',
  ]);
  const header = ['scenario', 'figure', 'value', 'ratio', 'target', 'result', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === 6 ? 0 : r[i]!.length))));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en-US') : String(value);
}
