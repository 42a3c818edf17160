/* global window, performance, ImageData, requestAnimationFrame */
// The map: every drawn track as a pixel of a canvas ImageData (one pass over the points, so
// 170k points redraw in a few milliseconds on pan and zoom), coloured from a value column, with
// the seeds and neighbours ringed on top and the nearest point under the pointer reported.

const BACKGROUND = 0xff110d0b; // ABGR: #0b0d11
const MISSING = 0xff5a5048;
const STOPS = [
  [0x44, 0x01, 0x54],
  [0x3b, 0x52, 0x8b],
  [0x21, 0x91, 0x8c],
  [0x5e, 0xc9, 0x62],
  [0xfd, 0xe7, 0x25],
];

/** 256 colours of the viridis ramp, packed as ABGR for a little-endian Uint32 view of RGBA bytes. */
const RAMP = new Uint32Array(256).map((_, i) => {
  const t = (i / 255) * (STOPS.length - 1);
  const j = Math.min(STOPS.length - 2, Math.floor(t));
  const f = t - j;
  const [r, g, b] = [0, 1, 2].map((c) => Math.round(STOPS[j][c] + (STOPS[j + 1][c] - STOPS[j][c]) * f));
  return (0xff << 24) | (b << 16) | (g << 8) | r;
});

/** The value at quantile q of the finite values (for a colour scale that outliers do not flatten). */
function quantile(sorted, q) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
}

export class TrackMap {
  constructor(canvas, { onHover, onPick }) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.onHover = onHover;
    this.onPick = onPick;
    this.xy = new Float32Array(0);
    this.rows = new Int32Array(0);
    this.colours = new Uint32Array(0);
    this.rowToPoint = new Map();
    this.highlight = { seeds: [], neighbours: [] };
    this.view = { cx: 0, cy: 0, scale: 1 };
    this.stats = { draws: 0, lastDrawMs: NaN, firstDrawAt: NaN };
    this.pending = false;
    this.listen();
  }

  setPoints(rows, xy) {
    this.rows = rows;
    this.xy = xy;
    this.rowToPoint = new Map();
    for (let i = 0; i < rows.length; i++) this.rowToPoint.set(rows[i], i);
    this.colours = new Uint32Array(rows.length).fill(RAMP[128]);
    this.resetView();
  }

  /** Colours the points by `values` (one per point; NaN grey) between their 1st and 99th percentiles; returns that range. */
  setValues(values) {
    const finite = values.filter((v) => Number.isFinite(v)).sort();
    const lo = quantile(finite, 0.01);
    const hi = quantile(finite, 0.99);
    const span = hi > lo ? hi - lo : 1;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      this.colours[i] = Number.isFinite(v) ? RAMP[Math.max(0, Math.min(255, Math.round(((v - lo) / span) * 255)))] : MISSING;
    }
    this.requestDraw();
    return { lo, hi };
  }

  setHighlight(seeds, neighbours) {
    this.highlight = { seeds, neighbours };
    this.requestDraw();
  }

  resetView() {
    let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
    const xy = this.xy;
    for (let i = 0; i < xy.length; i += 2) {
      const x = xy[i];
      const y = xy[i + 1];
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    if (!(maxX >= minX)) [minX, maxX, minY, maxY] = [-1, 1, -1, 1];
    const { width, height } = this.size();
    this.view = {
      cx: (minX + maxX) / 2,
      cy: (minY + maxY) / 2,
      scale: 0.92 * Math.min(width / Math.max(1e-9, maxX - minX), height / Math.max(1e-9, maxY - minY)),
    };
    this.requestDraw();
  }

  size() {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(this.canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(this.canvas.clientHeight * ratio));
    return { width, height, ratio };
  }

  requestDraw() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  toScreen(i) {
    const { cx, cy, scale } = this.view;
    return [(this.xy[2 * i] - cx) * scale + this.canvas.width / 2, this.canvas.height / 2 - (this.xy[2 * i + 1] - cy) * scale];
  }

  /** Draws every point, then the rings; records how long it took. */
  draw() {
    const started = performance.now();
    const { width, height, ratio } = this.size();
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    const image = new ImageData(width, height);
    const pixels = new Uint32Array(image.data.buffer);
    pixels.fill(BACKGROUND);
    const { cx, cy, scale } = this.view;
    const hw = width / 2;
    const hh = height / 2;
    const xy = this.xy;
    const colours = this.colours;
    // 2 × 2 device pixels a point: visible at 170k points, still one pass over them.
    for (let i = 0, n = colours.length; i < n; i++) {
      const px = ((xy[2 * i] - cx) * scale + hw) | 0;
      const py = (hh - (xy[2 * i + 1] - cy) * scale) | 0;
      if (px < 0 || py < 0 || px >= width - 1 || py >= height - 1) continue;
      const at = py * width + px;
      const c = colours[i];
      pixels[at] = c;
      pixels[at + 1] = c;
      pixels[at + width] = c;
      pixels[at + width + 1] = c;
    }
    this.ctx.putImageData(image, 0, 0);
    this.ring(this.highlight.neighbours, 5 * ratio, '#ffb347', 1.5 * ratio);
    this.ring(this.highlight.seeds, 7 * ratio, '#ffffff', 2.5 * ratio);
    this.stats.draws++;
    this.stats.lastDrawMs = performance.now() - started;
    if (Number.isNaN(this.stats.firstDrawAt) && colours.length > 0) this.stats.firstDrawAt = performance.now();
    this.canvas.dataset.draws = String(this.stats.draws);
  }

  ring(rows, radius, colour, lineWidth) {
    const ctx = this.ctx;
    ctx.strokeStyle = colour;
    ctx.lineWidth = lineWidth;
    for (const row of rows) {
      const i = this.rowToPoint.get(row);
      if (i === undefined) continue; // not in the map's sample
      const [x, y] = this.toScreen(i);
      ctx.beginPath();
      ctx.arc(x, y, radius, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  /** The point nearest to canvas position (x, y) in CSS pixels, within `within` pixels, or -1. */
  pointAt(x, y, within = 6) {
    const ratio = window.devicePixelRatio || 1;
    const sx = x * ratio;
    const sy = y * ratio;
    const { cx, cy, scale } = this.view;
    const hw = this.canvas.width / 2;
    const hh = this.canvas.height / 2;
    let best = -1;
    let bestD = (within * ratio) ** 2;
    const xy = this.xy;
    for (let i = 0, n = xy.length / 2; i < n; i++) {
      const dx = (xy[2 * i] - cx) * scale + hw - sx;
      const dy = hh - (xy[2 * i + 1] - cy) * scale - sy;
      const d = dx * dx + dy * dy;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    return best;
  }

  listen() {
    const c = this.canvas;
    let drag = null;
    c.addEventListener('pointerdown', (e) => {
      drag = { x: e.offsetX, y: e.offsetY, moved: 0 };
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener('pointermove', (e) => {
      if (drag) {
        const ratio = window.devicePixelRatio || 1;
        const dx = e.offsetX - drag.x;
        const dy = e.offsetY - drag.y;
        drag.moved += Math.abs(dx) + Math.abs(dy);
        this.view.cx -= (dx * ratio) / this.view.scale;
        this.view.cy += (dy * ratio) / this.view.scale;
        drag.x = e.offsetX;
        drag.y = e.offsetY;
        this.requestDraw();
        return;
      }
      const i = this.pointAt(e.offsetX, e.offsetY);
      this.onHover(i < 0 ? null : { row: this.rows[i], x: e.offsetX, y: e.offsetY });
    });
    c.addEventListener('pointerup', (e) => {
      const wasClick = drag && drag.moved < 4;
      drag = null;
      if (!wasClick) return;
      const i = this.pointAt(e.offsetX, e.offsetY);
      if (i >= 0) this.onPick(this.rows[i]);
    });
    c.addEventListener('pointerleave', () => this.onHover(null));
    c.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const ratio = window.devicePixelRatio || 1;
        const factor = Math.exp(-e.deltaY * 0.0015);
        // Zoom about the pointer: the data point under it stays under it.
        const sx = e.offsetX * ratio - c.width / 2;
        const sy = c.height / 2 - e.offsetY * ratio;
        const { cx, cy, scale } = this.view;
        const next = Math.min(1e7, Math.max(1e-3, scale * factor));
        this.view = { cx: cx + sx / scale - sx / next, cy: cy + sy / scale - sy / next, scale: next };
        this.requestDraw();
      },
      { passive: false },
    );
    window.addEventListener('resize', () => this.requestDraw());
  }
}
