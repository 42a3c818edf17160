/** A one-line progress bar on a TTY stream; silent elsewhere, so logs and tests stay clean. */
export class Progress {
  private done = 0;
  private last = 0;
  private readonly started = performance.now();

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly label: string,
    private readonly total: number,
  ) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  /** Sets how many rows are done (monotonic); redraws at most ten times a second. */
  update(done: number): void {
    this.done = done;
    const now = performance.now();
    if (this.enabled && (now - this.last > 100 || this.done >= this.total)) {
      this.last = now;
      this.render(now);
    }
  }

  private render(now: number): void {
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const width = 30;
    const filled = Math.round(frac * width);
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? this.done / secs : 0;
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const line = `${this.label.padEnd(6)} ${bar} ${(frac * 100).toFixed(0).padStart(3)}%  ${this.done.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')} rows  ${Math.round(rate).toLocaleString('en-US')} rows/s`;
    this.stream.write(`\r${line}\x1b[K`);
  }

  /** Ends the line so the next output starts clean. */
  finish(): void {
    if (this.enabled) this.stream.write('\n');
  }
}
