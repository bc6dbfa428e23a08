/** One measured figure; `--json` prints each as `{"name", "value", "unit"}`. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The quality bar from DESIGN.md, for the table. */
  bar?: string;
}
