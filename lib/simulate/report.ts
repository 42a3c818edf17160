/** The simulator's report: the critical path phase by phase, concurrency, requests per prefix, GB-s and dollars. */
import type { Platform } from './figures.ts';
import type { SimResult } from './run.ts';
import { gbSeconds } from './run.ts';

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The most invocations running at once, overall and per function. */
export function peakConcurrency(r: SimResult): { all: number; byFunction: Record<string, number> } {
  const events: [number, number, string][] = [];
  for (const i of r.invocations) events.push([i.start, 1, i.fn], [i.end, -1, i.fn]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let all = 0;
  let peak = 0;
  const now: Record<string, number> = {};
  const byFunction: Record<string, number> = {};
  for (const [, d, fn] of events) {
    all += d;
    now[fn] = (now[fn] ?? 0) + d;
    peak = Math.max(peak, all);
    byFunction[fn] = Math.max(byFunction[fn] ?? 0, now[fn]!);
  }
  return { all: peak, byFunction };
}

/** Dollars of one job: Lambda GB-s and requests, S3 requests. */
export function dollars(r: SimResult, p: Platform) {
  const gb = gbSeconds(r, p);
  let puts = 0;
  let gets = 0;
  for (const c of r.prefixes.values()) {
    puts += c.requests.PUT + c.requests.COPY + c.requests.LIST;
    gets += c.requests.GET;
  }
  const lambda =
    (gb.steps + gb.job) * p.price.gbSecond.value + ((r.invocations.length + r.checkpoints) / 1e6) * p.price.perMillionRequests.value;
  const s3 = (puts / 1000) * p.price.s3PutPer1000.value + (gets / 1000) * p.price.s3GetPer1000.value;
  return { gbSeconds: gb, puts, gets, lambda, s3, total: lambda + s3 };
}

/** The report as text (stdout of `npm run simulate`). */
export function formatReport(r: SimResult, p: Platform): string {
  const o = r.options;
  const lines: string[] = [];
  lines.push(
    `## ${o.rows.toLocaleString('en-US')} rows, ${(o.repeats * 100).toFixed(0)} % repeated ids, concurrency ${o.concurrency}, ${o.memoryMb} MB, on ${p.name}`,
    '',
    `job ${r.status}${r.error ? `: ${r.error}` : ''} — end to end ${s(r.wallMs)}${r.harnessMs > 0 ? ` (of which ${s(r.harnessMs)} around the job: moto, upload, download)` : ''}`,
    '',
    '| phase (critical path) | start | duration | invocations | slowest | cold | queued (max) |',
    '|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const ph of r.phases) {
    const inv = r.invocations.filter((i) => i.start >= ph.start && i.end <= ph.end);
    const slowest = Math.max(0, ...inv.map((i) => i.end - i.start));
    const queued = Math.max(0, ...inv.map((i) => i.queuedMs));
    lines.push(
      `| ${ph.name}${ph.ok ? '' : ' (failed)'} | ${s(ph.start)} | ${s(ph.end - ph.start)} | ${inv.length} | ${inv.length ? s(slowest) : ''} | ${inv.filter((i) => i.cold).length} | ${inv.length ? s(queued) : ''} |`,
    );
  }
  const peak = peakConcurrency(r);
  lines.push(
    '',
    `peak concurrency: ${peak.all} (${Object.entries(peak.byFunction)
      .map(([f, n]) => `${f} ${n}`)
      .join(', ')})`,
  );
  const limits = new Map<string, { maxS: number; peakMiB: number; failed: number }>();
  for (const i of r.invocations) {
    const l = limits.get(i.fn) ?? { maxS: 0, peakMiB: 0, failed: 0 };
    l.maxS = Math.max(l.maxS, (i.end - i.start) / 1000);
    l.peakMiB = Math.max(l.peakMiB, i.peakMiB);
    if (!i.ok) l.failed++;
    limits.set(i.fn, l);
  }
  lines.push(
    'limits: ' +
      [...limits]
        .map(
          ([f, l]) =>
            `${f} longest ${l.maxS.toFixed(1)} s of ${p.lambda.timeoutS.value} s, peak ${Math.round(l.peakMiB)} MiB of ${o.memoryMb} MB${l.failed ? `, ${l.failed} failed` : ''}`,
        )
        .join('; '),
  );
  const failures = r.invocations.filter((i) => !i.ok);
  if (failures.length) lines.push(`failed invocations: ${failures.length}, first: ${failures[0]!.fn}: ${failures[0]!.error}`);
  lines.push('', '| prefix | GET | PUT | COPY | LIST | DELETE | peak req/s | 503 SlowDown |', '|---|---:|---:|---:|---:|---:|---:|---:|');
  const prefixes = [...r.prefixes].sort((a, b) => total(b[1].requests) - total(a[1].requests));
  for (const [prefix, c] of prefixes.slice(0, 12))
    lines.push(
      `| ${prefix || '(root)'} | ${c.requests.GET} | ${c.requests.PUT} | ${c.requests.COPY} | ${c.requests.LIST} | ${c.requests.DELETE} | ${c.peakPerSecond} | ${c.slowDowns} |`,
    );
  if (prefixes.length > 12) lines.push(`| … ${prefixes.length - 12} more prefixes | | | | | | | |`);
  const d = dollars(r, p);
  lines.push(
    '',
    `Lambda: ${r.invocations.length} invocations, ${d.gbSeconds.steps.toFixed(0)} GB-s (+ ${d.gbSeconds.job.toFixed(1)} GB-s of the job function), ${r.checkpoints} checkpoints`,
    `cost per job: $${d.total.toFixed(4)} (Lambda $${d.lambda.toFixed(4)}, S3 ${d.puts} PUT-class + ${d.gets} GET requests $${d.s3.toFixed(4)})`,
  );
  return lines.join('\n') + '\n';
}

const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
