/**
 * The explore page in a real browser (Debian's Chromium, driven by playwright-core) over a
 * 3,000-track folder made by the built command: search a name, pick it, click a neighbour, switch
 * the metric, build a playlist, see a non-empty map, export the list. Every neighbour list the
 * page shows is checked against `similar --json` for the same query. Without Chromium the tests
 * fail with one line saying what is missing (CI installs it: .ci/run).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, makeOutputFolderHere, runCommand, startExplore, type RunningExplore } from './browser.ts';
import type { PageDocument, PageElement } from './browser.ts';

// The page's globals, in the callbacks that run in the browser (the tsconfig has no DOM lib).
declare const document: PageDocument;
declare const window: {
  exploreMap: { rows: Int32Array; toScreen(i: number): [number, number]; pointAt(x: number, y: number): number };
  devicePixelRatio: number;
};

const ROWS = 3000;
let root: string;
let server: RunningExplore;
let browser: Browser;
let page: Page;
const requested: string[] = [];

interface Similar {
  rank: number;
  id: string;
  row: number;
  distance: number;
}

/** What `similar` answers for the seeds: the reference the page's lists must equal. */
function similar(ids: string[], metric = 'euclidean', k = 10): Similar[] {
  const out = runCommand(['similar', 'out', ...ids.flatMap((id) => ['--id', id]), '--k', String(k), '--metric', metric, '--json'], root);
  return out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Similar);
}

/** The neighbour table as shown: row and distance of each line. */
const shownNeighbours = () =>
  page.$$eval('#neighbours tbody tr', (trs) =>
    trs.map((tr) => ({ row: Number((tr as PageElement).dataset.row), distance: Number(tr.children[4]!.textContent) })),
  );

/** Waits for the page's next neighbour answer after `act`. */
async function answered(act: () => Promise<void>): Promise<void> {
  const before = Number(await page.evaluate(() => document.body.dataset.query ?? '0'));
  await act();
  await page.waitForFunction((n) => Number(document.body.dataset.query ?? '0') > n, before);
}

const expectSame = (shown: { row: number; distance: number }[], expected: Similar[]) => {
  expect(shown.map((s) => s.row)).toEqual(expected.map((e) => e.row));
  shown.forEach((s, i) => expect(s.distance).toBeCloseTo(expected[i]!.distance, 4));
};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'explore-page-'));
  await makeOutputFolderHere(root, ROWS);
  server = await startExplore('out', root);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 800 }, acceptDownloads: true });
  page.on('request', (r) => requested.push(r.url()));
  await page.goto(server.url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (server) expect(await server.stop()).toBe(0);
  rmSync(root, { recursive: true, force: true });
});

describe('explore page', () => {
  let seedId: string;

  it('finds a track by typing part of its name and lists the neighbours similar gives', async () => {
    const known = JSON.parse(await (await fetch(`${server.url}api/track?row=123`)).text()) as { name: string; id: string };
    await page.fill('#search', known.name.slice(0, 6));
    await page.waitForSelector('#results li[data-row="123"]', { timeout: 5000 }).catch(async () => {
      // A common prefix may have more than 20 matches: the whole name narrows it.
      await page.fill('#search', known.name);
      await page.waitForSelector('#results li[data-row="123"]');
    });
    await answered(() => page.click('#results li[data-row="123"]'));
    // The track's details arrive on their own request, beside the neighbours'.
    await expect.poll(() => page.textContent('#track-title')).toBe(known.name);
    expect(await page.textContent('#track-meta')).toContain(known.id);
    await expect.poll(() => page.$$eval('#features tbody tr', (trs) => trs.length)).toBe(14);
    expectSame(await shownNeighbours(), similar([known.id]));
    seedId = known.id;
  });

  it('finds a track by its id', async () => {
    await page.fill('#search', seedId);
    await page.waitForSelector('#results li[data-row="123"]:first-child');
  });

  it('picks a neighbour by clicking it, and lists its own neighbours', async () => {
    const first = (await shownNeighbours())[0]!;
    const id = await page.getAttribute(`#neighbours tr[data-row="${first.row}"] button.pick`, 'title');
    await answered(() => page.click(`#neighbours tr[data-row="${first.row}"] button.pick`));
    expect(await page.$$eval('#seeds li', (lis) => lis.map((li) => Number((li as PageElement).dataset.row)))).toEqual([first.row]);
    expectSame(await shownNeighbours(), similar([id!.replace(/^pick /, '')]));
    seedId = id!.replace(/^pick /, '');
  });

  it('switches the metric to cosine', async () => {
    await answered(async () => void (await page.selectOption('#metric', 'cosine')));
    expectSame(await shownNeighbours(), similar([seedId], 'cosine'));
    await answered(async () => void (await page.selectOption('#metric', 'euclidean')));
  });

  it('searches from the mean of several seeds (a playlist), with the k asked', async () => {
    const second = (await shownNeighbours())[2]!;
    const secondId = (await page.getAttribute(`#neighbours tr[data-row="${second.row}"] button.pick`, 'title'))!.replace(/^pick /, '');
    await answered(() => page.click(`#neighbours tr[data-row="${second.row}"] button.add`));
    await answered(() => page.fill('#k', '25').then(() => page.press('#k', 'Enter')));
    expect(await page.$$eval('#seeds li', (lis) => lis.length)).toBe(2);
    expectSame(await shownNeighbours(), similar([seedId, secondId], 'euclidean', 25));
  });

  it('draws the map: thousands of coloured pixels, more than one colour, the seeds and neighbours ringed', async () => {
    const { lit, colours, white, orange } = await page.evaluate(() => {
      const c = document.getElementById('map');
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      let [lit, white, orange] = [0, 0, 0];
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
        const rgb = (r << 16) | (g << 8) | b;
        if (rgb !== 0x0b0d11) {
          lit++;
          seen.add(rgb);
        }
        // The rings: white for the seeds, #ffb347 for the neighbours (neither is on the viridis ramp).
        if (r > 245 && g > 245 && b > 245) white++;
        if (r > 245 && g > 165 && g < 195 && b > 55 && b < 90) orange++;
      }
      return { lit, colours: seen.size, white, orange };
    });
    expect(lit).toBeGreaterThan(ROWS / 2);
    expect(colours).toBeGreaterThan(10);
    expect(white).toBeGreaterThan(20);
    expect(orange).toBeGreaterThan(50);
  });

  it('exports the neighbours as CSV and JSON, as listed', async () => {
    const shown = await shownNeighbours();
    const download = async (selector: string) => {
      const [d] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
      return readFileSync((await d.path())!, 'utf8');
    };
    const csv = (await download('#export-csv')).trimEnd().split('\r\n');
    expect(csv[0]).toBe('rank,id,row,name,artists,year,distance');
    expect(csv.length).toBe(shown.length + 1);
    const json = JSON.parse(await download('#export-json')) as { query: { seeds: unknown[]; k: number }; neighbours: Similar[] };
    expect(json.query.seeds).toHaveLength(2);
    expect(json.query.k).toBe(25);
    expect(json.neighbours.map((n) => n.row)).toEqual(shown.map((s) => s.row));
  });

  it('names the track under the pointer, and picks the point clicked', async () => {
    const box = (await page.locator('#map').boundingBox())!;
    // A point well inside the canvas: the 100th drawn, where it is on screen, and the row there.
    const spot = await page.evaluate(() => {
      const m = window.exploreMap;
      const ratio = window.devicePixelRatio || 1;
      for (let i = 100; i < m.rows.length; i++) {
        const [x, y] = m.toScreen(i);
        const at = m.pointAt(x / ratio, y / ratio);
        if (x > 20 && y > 20 && at >= 0) return { x: x / ratio, y: y / ratio, row: m.rows[at]! };
      }
      return null;
    });
    expect(spot).not.toBeNull();
    const t = (await (await fetch(`${server.url}api/track?row=${spot!.row}`)).json()) as { name: string };
    await page.mouse.move(box.x + spot!.x, box.y + spot!.y);
    await page.waitForSelector('#tooltip:not([hidden])');
    expect(await page.textContent('#tooltip')).toContain(t.name);
    await answered(() => page.mouse.click(box.x + spot!.x, box.y + spot!.y));
    expect(await page.$$eval('#seeds li', (lis) => lis.map((li) => Number((li as PageElement).dataset.row)))).toEqual([spot!.row]);
  });

  it('asked for nothing from anywhere but its own server', () => {
    const origin = new URL(server.url).origin;
    expect(requested.length).toBeGreaterThan(5);
    expect(requested.filter((u) => new URL(u).origin !== origin)).toEqual([]);
  });
});
