/** The middle value (the upper one of an even count). */
export const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** One measured figure; `--json` prints each as `{"name", "value", "unit"}`. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The quality bar (README, "Performance"), for the table. */
  bar?: string;
}
