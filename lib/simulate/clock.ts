/**
 * Virtual time: a discrete-event scheduler. The simulated services sleep on it instead of on
 * real timers, and the run loop advances the clock to the next event once every promise that
 * can make progress has (no real sleeps: a simulated hour takes as long as its events).
 */
interface Timer {
  at: number;
  seq: number;
  fire: () => void;
}

/** Raised when the job waits on nothing the simulation will ever deliver. */
export class SimulationStalled extends Error {
  override name = 'SimulationStalled';
}

export class Clock {
  /** Virtual milliseconds since the start. */
  now = 0;
  private heap: Timer[] = [];
  private seq = 0;

  /** Resolves `ms` virtual milliseconds from now. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.at(this.now + Math.max(0, ms), resolve));
  }

  /** Calls `fire` at virtual time `at`. */
  at(at: number, fire: () => void): void {
    this.push({ at, seq: this.seq++, fire });
  }

  /** Runs `main` to its end in virtual time. */
  async run<T>(main: () => Promise<T>): Promise<T> {
    let settled: { ok: true; value: T } | { ok: false; error: unknown } | null = null;
    main().then(
      (value) => (settled = { ok: true, value }),
      (error: unknown) => (settled = { ok: false, error }),
    );
    for (;;) {
      await drain();
      if (settled) break;
      let next = this.pop();
      // Real asynchronous work (wasm reading a Blob) settles on the event loop: give it a few turns.
      for (let i = 0; !next && !settled && i < 200; i++) {
        await new Promise((r) => setTimeout(r, 1));
        next = this.pop();
      }
      if (settled) break;
      if (!next) throw new SimulationStalled(`nothing left to happen at ${(this.now / 1000).toFixed(3)} s and the job has not ended`);
      this.now = Math.max(this.now, next.at);
      next.fire();
    }
    const s = settled as { ok: true; value: T } | { ok: false; error: unknown };
    if (!s.ok) throw s.error;
    return s.value;
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

const before = (a: Timer, b: Timer) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/** Lets every pending promise chain run (microtasks, then one macrotask turn). */
const drain = () => new Promise<void>((r) => setImmediate(r));

/**
 * A rate shared by whoever uses it at once (processor sharing): `capacity` units per ms in all,
 * at most `perUser` each. A core shared by the handlers of one process, a server's bandwidth.
 */
export class SharedRate {
  private users = new Set<{ left: number; amount: number; done: () => void }>();
  private last = 0;
  private generation = 0;

  constructor(
    private readonly clock: Clock,
    private readonly capacity: number,
    private readonly perUser = Infinity,
  ) {}

  /** Resolves once `amount` units went through. */
  use(amount: number): Promise<void> {
    if (!(amount > 0)) return Promise.resolve();
    if (!Number.isFinite(this.capacity) && !Number.isFinite(this.perUser)) return Promise.resolve();
    this.advance();
    return new Promise((done) => {
      this.users.add({ left: amount, amount, done });
      this.schedule();
    });
  }

  private rate(): number {
    return Math.min(this.perUser, this.capacity / Math.max(1, this.users.size));
  }

  private advance(): void {
    const elapsed = this.clock.now - this.last;
    this.last = this.clock.now;
    if (elapsed <= 0 || this.users.size === 0) return;
    const r = this.rate();
    for (const u of this.users) u.left -= r * elapsed;
  }

  private schedule(): void {
    const r = this.rate();
    // Done when what is left is rounding, or too little for the clock to tell apart from now.
    for (const u of this.users)
      if (u.left <= 1e-9 * u.amount || this.clock.now + u.left / r <= this.clock.now) {
        this.users.delete(u);
        u.done();
      }
    if (this.users.size === 0) return;
    const gen = ++this.generation;
    const soonest = Math.min(...[...this.users].map((u) => u.left));
    this.clock.at(this.clock.now + soonest / this.rate(), () => {
      if (gen !== this.generation) return;
      this.advance();
      this.schedule();
    });
  }
}
