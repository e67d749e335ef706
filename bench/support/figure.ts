/** One measured figure of `bench/results/latest.json` and the stdout table. */
export interface Figure {
  /** Scenario number and name, e.g. `1 client credentials`. */
  readonly scenario: string;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** A ratio against the baseline measured in the same run, when there is one. */
  readonly ratio?: number;
  /** What the ratio (or, when there is no ratio, the value) must reach, e.g. `>= 0.9`. */
  readonly target?: string;
  readonly pass?: boolean;
  /** Context: the baseline, an anchor, parameters. */
  readonly note?: string;
}

/** A figure whose ratio is checked against a lower bound. */
export function ratioFigure(
  base: Omit<Figure, 'ratio' | 'target' | 'pass'>,
  ratio: number,
  atLeast: number,
): Figure {
  return { ...base, ratio, target: `>= ${atLeast}`, pass: ratio >= atLeast };
}
