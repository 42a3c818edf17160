/** Counts work in flight so that `idle()` is exact rather than polled. */
export class InFlight {
  private active = 0;
  private waiters: Array<() => void> = [];

  begin(): void {
    this.active += 1;
  }

  end(): void {
    this.active -= 1;
    if (this.active > 0) return;
    const ready = this.waiters;
    this.waiters = [];
    for (const resolve of ready) resolve();
  }

  /** Resolves when nothing is in flight (at once if nothing is now). */
  idle(): Promise<void> {
    return this.active === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Runs `work` counted as in flight. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.begin();
    try {
      return await work();
    } finally {
      this.end();
    }
  }
}
