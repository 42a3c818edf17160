/* global document, window, performance, setTimeout, clearTimeout */
// The explore page: search → seeds → neighbours, the track's features, and the map, over the
// same-origin API (api.js). All text from the data is set with textContent, never as HTML.
import * as api from './api.js';
import { TrackMap } from './map.js';

const $ = (id) => document.getElementById(id);
const state = { info: null, seeds: [], k: 10, metric: 'euclidean', neighbours: [], tracks: new Map() };
/** Figures the browser tests read. */
const stats = { queries: [], lastQueryMs: NaN, lastServerMs: NaN, mapDrawMs: NaN, mapShownAt: NaN };
window.exploreStats = stats;

const el = (tag, text, cls) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
};
const label = (t) => `${t.name || t.id}${t.artists ? ` — ${t.artists}` : ''}`;
const fmt = (v, digits = 4) =>
  v === null || v === undefined ? '—' : typeof v === 'number' ? String(Number(v.toFixed(digits))) : String(v);

function remember(tracks) {
  for (const t of tracks) state.tracks.set(t.row, t);
}

// ---- search (type-ahead) ----
let searchTimer;
let searchSeq = 0;
let active = -1;
function showResults(list) {
  const ul = $('results');
  ul.replaceChildren();
  active = -1;
  for (const t of list) {
    const li = el('li');
    li.setAttribute('role', 'option');
    li.dataset.row = String(t.row);
    const main = el('span', label(t));
    const sub = el('span', `${t.year ?? ''} ${t.id}`, 'sub');
    li.append(main, sub);
    li.addEventListener('mousedown', (e) => {
      e.preventDefault();
      choose(t.row);
    });
    ul.append(li);
  }
  ul.hidden = list.length === 0;
  $('search').setAttribute('aria-expanded', String(list.length > 0));
}
async function runSearch(q) {
  const seq = ++searchSeq;
  const list = q.trim() === '' ? [] : await api.search(q);
  if (seq !== searchSeq) return; // a later keystroke's answer wins
  remember(list);
  showResults(list);
}
$('search').addEventListener('input', (e) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => runSearch(e.target.value).catch(showError), 60);
});
$('search').addEventListener('keydown', (e) => {
  const items = [...$('results').children];
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    e.preventDefault();
    active = Math.max(0, Math.min(items.length - 1, active + (e.key === 'ArrowDown' ? 1 : -1)));
    items.forEach((li, i) => li.setAttribute('aria-selected', String(i === active)));
  } else if (e.key === 'Enter' && items.length > 0) {
    choose(Number(items[Math.max(0, active)].dataset.row));
  } else if (e.key === 'Escape') showResults([]);
});
$('search').addEventListener('blur', () => setTimeout(() => showResults([]), 100));

// ---- seeds and neighbours ----
function choose(row) {
  showResults([]);
  state.seeds = [row];
  update();
}
function addSeed(row) {
  if (!state.seeds.includes(row)) state.seeds.push(row);
  update();
}
function removeSeed(row) {
  state.seeds = state.seeds.filter((r) => r !== row);
  update();
}
$('clear').addEventListener('click', () => {
  state.seeds = [];
  update();
});
$('metric').addEventListener('change', (e) => {
  state.metric = e.target.value;
  update();
});
$('k').addEventListener('change', (e) => {
  const k = Math.round(Number(e.target.value));
  state.k = Math.max(1, Math.min(state.info?.maxK ?? 1000, Number.isFinite(k) ? k : 10));
  e.target.value = String(state.k);
  update();
});

function renderSeeds() {
  const ul = $('seeds');
  ul.replaceChildren();
  for (const row of state.seeds) {
    const t = state.tracks.get(row);
    const li = el('li');
    li.dataset.row = String(row);
    li.append(el('span', t ? label(t) : `row ${row}`));
    const x = el('button', '×');
    x.type = 'button';
    x.title = 'remove this seed';
    x.addEventListener('click', () => removeSeed(row));
    li.append(x);
    ul.append(li);
  }
  $('clear').hidden = state.seeds.length === 0;
  $('seeds-hint').hidden = state.seeds.length > 1;
}

async function renderTrack() {
  const box = $('track');
  if (state.seeds.length !== 1) {
    box.hidden = state.seeds.length === 0;
    $('track-title').textContent = `Playlist of ${state.seeds.length} seeds`;
    $('track-meta').textContent = 'neighbours of their mean vector';
    $('features').hidden = true;
    return;
  }
  const row = state.seeds[0];
  const t = await api.track(row);
  if (state.seeds.length !== 1 || state.seeds[0] !== row) return;
  remember([t]);
  box.hidden = false;
  $('features').hidden = false;
  $('track-title').textContent = t.name || t.id;
  $('track-meta').textContent = [t.artists, t.year ?? '', `id ${t.id}`, `row ${t.row}`].filter(Boolean).join(' · ');
  const body = $('features').tBodies[0];
  body.replaceChildren();
  state.info.features.forEach((f, d) => {
    const tr = el('tr');
    tr.append(el('td', String(d), 'num'), el('td', f), el('td', fmt(t.features[f]), 'num'), el('td', fmt(t.vector[d]), 'num'));
    body.append(tr);
  });
}

function renderNeighbours() {
  const body = $('neighbours').tBodies[0];
  body.replaceChildren();
  for (const n of state.neighbours) {
    const tr = el('tr');
    tr.dataset.row = String(n.row);
    const name = el('td', undefined, 'name');
    const pick = el('button', n.name || n.id, 'pick');
    pick.type = 'button';
    pick.title = `pick ${n.id}`;
    pick.addEventListener('click', () => choose(n.row));
    name.append(pick);
    const add = el('button', '+');
    add.type = 'button';
    add.title = 'add to the seeds (playlist)';
    add.className = 'add';
    add.addEventListener('click', () => addSeed(n.row));
    const plus = el('td');
    plus.append(add);
    tr.append(
      el('td', String(n.rank), 'num'),
      name,
      el('td', n.artists),
      el('td', fmt(n.year), 'num'),
      el('td', n.distance.toFixed(4), 'num'),
      plus,
    );
    body.append(tr);
  }
}

function setExports() {
  for (const format of ['csv', 'json']) {
    const a = $(`export-${format}`);
    if (state.seeds.length === 0) {
      a.removeAttribute('href');
      a.setAttribute('aria-disabled', 'true');
    } else {
      a.href = api.exportUrl(state.seeds, state.k, state.metric, format);
      a.setAttribute('aria-disabled', 'false');
    }
  }
}

let querySeq = 0;
function update() {
  refresh().catch(showError);
}
async function refresh() {
  renderSeeds();
  setExports();
  const seq = ++querySeq;
  renderTrack().catch(showError);
  if (state.seeds.length === 0) {
    state.neighbours = [];
    renderNeighbours();
    trackMap.setHighlight([], []);
    $('timing').textContent = '';
    return;
  }
  const started = performance.now();
  const answer = await api.neighbours(state.seeds, state.k, state.metric);
  if (seq !== querySeq) return;
  state.neighbours = answer.neighbours;
  remember(answer.neighbours);
  renderNeighbours();
  renderSeeds();
  trackMap.setHighlight(
    state.seeds,
    state.neighbours.map((n) => n.row),
  );
  stats.lastQueryMs = performance.now() - started;
  stats.lastServerMs = answer.ms;
  stats.queries.push(stats.lastQueryMs);
  $('timing').textContent =
    `${state.neighbours.length} nearest of ${state.info.rows.toLocaleString('en-US')} in ${answer.ms.toFixed(1)} ms (page ${stats.lastQueryMs.toFixed(0)} ms)`;
  document.body.dataset.query = String(stats.queries.length);
}

function showError(e) {
  $('timing').textContent = `error: ${e.message ?? e}`;
}

// ---- the map ----
const tooltip = $('tooltip');
let hoverSeq = 0;
const trackMap = new TrackMap($('map'), {
  onHover: async (hit) => {
    const seq = ++hoverSeq;
    if (!hit) {
      tooltip.hidden = true;
      return;
    }
    let t = state.tracks.get(hit.row);
    if (!t) {
      t = await api.summary(hit.row);
      remember([t]);
    }
    if (seq !== hoverSeq) return;
    tooltip.replaceChildren(el('div', label(t)), el('div', `${t.year ?? ''} ${t.id}`, 'sub'));
    tooltip.style.left = `${hit.x + 12}px`;
    tooltip.style.top = `${hit.y + 12}px`;
    tooltip.hidden = false;
  },
  onPick: (row) => choose(row),
});
stats.map = trackMap.stats;
/** The map itself, for the browser tests to find a point's place on screen. */
window.exploreMap = trackMap;
$('reset-view').addEventListener('click', () => trackMap.resetView());

async function colourBy(name) {
  const values = await api.column(name);
  const { lo, hi } = trackMap.setValues(values);
  $('legend-min').textContent = fmt(lo, 2);
  $('legend-max').textContent = fmt(hi, 2);
  document.body.dataset.colour = name;
}
$('colour').addEventListener('change', (e) => colourBy(e.target.value).catch(showError));

async function start() {
  const info = await api.info();
  state.info = info;
  const n = (x) => x.toLocaleString('en-US');
  const explained = info.totalVariance > 0 ? ((100 * (info.variances[0] + info.variances[1])) / info.totalVariance).toFixed(0) : '0';
  $('summary').textContent = `${info.input} · ${n(info.rows)} tracks · ${info.dims}-d · map: PCA (${explained} % of the variance)${
    info.sampled ? `, ${n(info.mapRows)} drawn` : ''
  }${info.note ? ` · ${info.note}` : ''}`;
  for (const c of info.colours) {
    const o = el('option', c.startsWith('dim:') ? `dim ${c.split(':')[1]} (${c.split(':')[2]})` : c);
    o.value = c;
    $('colour').append(o);
  }
  const { rows, xy } = await api.map();
  trackMap.setPoints(rows, xy);
  const first = info.colours.includes('year') ? 'year' : info.colours[0];
  $('colour').value = first;
  await colourBy(first);
  await new Promise((resolve) => window.requestAnimationFrame(() => window.requestAnimationFrame(resolve)));
  stats.mapDrawMs = trackMap.stats.lastDrawMs;
  stats.mapShownAt = trackMap.stats.firstDrawAt;
  document.body.dataset.ready = 'true';
}
start().catch(showError);
