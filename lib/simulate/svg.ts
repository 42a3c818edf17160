/** The job's Lambda concurrency over virtual time, per function, as an SVG step chart. */
import type { SimResult } from './run.ts';

const COLORS: Record<string, string> = { stats: '#1f77b4', embed: '#2ca02c', reduce: '#d62728' };

export function concurrencySvg(r: SimResult, width = 900, height = 320): string {
  const pad = { l: 50, r: 110, t: 30, b: 40 };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const end = Math.max(1, r.wallMs);
  const fns = [...new Set(r.invocations.map((i) => i.fn))];
  const series = fns.map((fn) => {
    const ev: [number, number][] = [];
    for (const i of r.invocations) if (i.fn === fn) ev.push([i.start, 1], [i.end, -1]);
    ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let n = 0;
    const pts: [number, number][] = [[0, 0]];
    for (const [t, d] of ev) {
      pts.push([t, n]);
      n += d;
      pts.push([t, n]);
    }
    pts.push([end, n]);
    return { fn, pts };
  });
  const peak = Math.max(1, ...series.flatMap((s) => s.pts.map((p) => p[1])));
  const x = (t: number) => (pad.l + (t / end) * w).toFixed(1);
  const y = (n: number) => (pad.t + h - (n / peak) * h).toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${pad.l}" y="18">Lambda concurrency, ${r.options.rows.toLocaleString('en-US')} rows (${r.options.platform}, concurrency ${r.options.concurrency}): job ${r.status} in ${(r.wallMs / 1000).toFixed(1)} s</text>`,
    `<line x1="${pad.l}" y1="${pad.t + h}" x2="${pad.l + w}" y2="${pad.t + h}" stroke="black"/>`,
    `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${pad.t + h}" stroke="black"/>`,
    `<text x="${pad.l - 6}" y="${pad.t + 4}" text-anchor="end">${peak}</text>`,
    `<text x="${pad.l - 6}" y="${pad.t + h}" text-anchor="end">0</text>`,
    `<text x="${pad.l + w}" y="${pad.t + h + 16}" text-anchor="end">${(end / 1000).toFixed(1)} s</text>`,
    `<text x="${pad.l}" y="${pad.t + h + 16}">0 s</text>`,
  ];
  for (const [k, s] of series.entries()) {
    const color = COLORS[s.fn] ?? '#555';
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${s.pts.map(([t, n]) => `${x(t)},${y(n)}`).join(' ')}"/>`);
    out.push(`<text x="${pad.l + w + 10}" y="${pad.t + 14 + k * 16}" fill="${color}">${s.fn}</text>`);
  }
  for (const ph of r.phases.filter((p) => p.end - p.start > end / 50))
    out.push(
      `<line x1="${x(ph.start)}" y1="${pad.t}" x2="${x(ph.start)}" y2="${pad.t + h}" stroke="#bbb" stroke-dasharray="3,3"><title>${ph.name}</title></line>`,
    );
  out.push('</svg>');
  return out.join('\n') + '\n';
}
