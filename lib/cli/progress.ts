/** One-line progress bars on a TTY stream, with rate and ETA; silent elsewhere (a pipe, TERM=dumb, --quiet), so logs and tests stay clean. */
import { barsAllowed } from './messages.ts';

const fmt = (n: number) => n.toLocaleString('en-US');

/** Seconds as `42s`, `3m05s` or `1h02m`. */
export function formatEta(secs: number): string {
  if (!Number.isFinite(secs) || secs < 0) return '--';
  const s = Math.round(secs);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class Progress {
  private done = 0;
  private last = 0;
  private readonly started = performance.now();

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly label: string,
    private readonly total: number,
    private readonly unit = 'rows',
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get enabled(): boolean {
    return barsAllowed(this.stream, this.env);
  }

  /** Sets how much is done (monotonic); redraws at most ten times a second. */
  update(done: number): void {
    this.done = done;
    const now = performance.now();
    if (this.enabled && (now - this.last > 100 || this.done >= this.total)) {
      this.last = now;
      this.stream.write(`\r${progressLine(this.label, this.done, this.total, (now - this.started) / 1000, this.unit)}\x1b[K`);
    }
  }

  /** Ends the line so the next output starts clean. */
  finish(): void {
    if (this.enabled) this.stream.write('\n');
  }
}

/** The text of a bar: label, bar, percent, done/total, rate and the time left at that rate. */
export function progressLine(label: string, done: number, total: number, secs: number, unit = 'rows'): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const width = 30;
  const filled = Math.round(frac * width);
  const rate = secs > 0 ? done / secs : 0;
  const eta = done >= total ? 'done' : rate > 0 ? `ETA ${formatEta((total - done) / rate)}` : 'ETA --';
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  return `${label.padEnd(6)} ${bar} ${(frac * 100).toFixed(0).padStart(3)}%  ${fmt(done)}/${fmt(total)} ${unit}  ${fmt(Math.round(rate))} ${unit}/s  ${eta}`;
}

/** One bar per phase, each finished when the next starts. */
export class ProgressBars {
  private readonly bars = new Map<string, Progress>();

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  update(phase: string, done: number, total: number, unit?: string): void {
    let bar = this.bars.get(phase);
    if (!bar) {
      this.finish();
      this.bars.set(phase, (bar = new Progress(this.stream, phase, total, unit, this.env)));
    }
    bar.update(done);
  }

  finish(): void {
    for (const b of this.bars.values()) b.finish();
    this.bars.clear();
  }
}
