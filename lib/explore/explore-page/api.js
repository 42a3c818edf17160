/* global fetch, URLSearchParams */
// The explore server's API, same origin only: JSON answers and the map's binary arrays.

async function get(path, params) {
  const url = params ? `${path}?${new URLSearchParams(params)}` : path;
  const res = await fetch(url);
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      message = (await res.json()).error ?? message;
    } catch {
      // not JSON: the status says enough
    }
    throw new Error(message);
  }
  return res;
}

export const info = async () => (await get('/api/info')).json();
export const search = async (q) => (await get('/api/search', { q, limit: '20' })).json();
export const track = async (row) => (await get('/api/track', { row: String(row) })).json();
/** A track's name, artists and year only (no input read): for hovering. */
export const summary = async (row) => (await get('/api/track', { row: String(row), features: '0' })).json();

/** The neighbours of the seeds' mean: {neighbours, ms}. */
export const neighbours = async (rows, k, metric) => (await get('/api/neighbours', neighbourParams(rows, k, metric))).json();

/** The query string of a neighbours request (the export links use it too). */
export function neighbourParams(rows, k, metric, format) {
  const p = { rows: rows.join(','), k: String(k), metric };
  if (format) p.format = format;
  return p;
}

export function exportUrl(rows, k, metric, format) {
  return `/api/neighbours?${new URLSearchParams(neighbourParams(rows, k, metric, format))}`;
}

/** The map: {rows: Int32Array, xy: Float32Array}. */
export async function map() {
  const buf = await (await get('/api/map')).arrayBuffer();
  const n = new DataView(buf).getUint32(0, true);
  return { rows: new Int32Array(buf, 4, n), xy: new Float32Array(buf, 4 + 4 * n, 2 * n) };
}

/** One colour column's values at the map's rows. */
export const column = async (name) => new Float32Array(await (await get('/api/column', { name })).arrayBuffer());
