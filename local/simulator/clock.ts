/**
 * The simulator's clock: runs `timeScale` times faster than real time and can be jumped ahead.
 * Every piece of appliance state is computed from it lazily, so `advance` is deterministic.
 */
export class SimClock {
  private base = Date.now();
  private realStart = performance.now();
  private offset = 0;

  constructor(private scale = 1) {}

  now(): number {
    return Math.floor(this.base + (performance.now() - this.realStart) * this.scale + this.offset);
  }

  /** Jumps ahead (the local engine passes Wait states this way). */
  advance(ms: number): void {
    if (ms > 0) this.offset += ms;
  }

  setTimeScale(scale: number): void {
    this.base = this.now();
    this.realStart = performance.now();
    this.offset = 0;
    this.scale = scale;
  }

  get timeScale(): number {
    return this.scale;
  }
}
