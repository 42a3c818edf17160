/** Type-ahead ranking (id, then name prefix, then contains; accents and case folded) and the CSV a spreadsheet opens safely. */
import { describe, expect, it } from 'vitest';
import { buildSearchIndex, searchTracks } from '../../lib/explore/track-search.ts';
import { neighboursCsv } from '../../lib/explore/export.ts';
import type { NeighbourRow } from '../../lib/explore/explorer.ts';

const names = ['Love Song', 'Glove', 'Beyoncé Lovers', 'Café Love', 'lovely', 'Other'];
const artists = ['A', 'B', 'C', 'Lovelace', 'D', 'Courtney Love'];
const index = buildSearchIndex(names, artists);
const ids = new Map([
  ['love', 4],
  ['x1', 0],
]);

describe('searchTracks', () => {
  it.each([
    ['love', [4, 0, 1, 2, 3, 5]], // the id 'love' first, then prefixes in row order, then contains
    ['LOVE', [0, 4, 1, 2, 3, 5]], // not an id as typed: prefixes first
    ['cafe', [3]],
    ['beyonce', [2]],
    ['lovelace', [3]],
    ['x1', [0]],
    ['  ', []],
    ['zzz', []],
  ])('%j → rows %j', (q, rows) => {
    expect(searchTracks(index, ids, q, 20)).toEqual(rows);
  });

  it('stops at the limit', () => {
    expect(searchTracks(index, ids, 'lo', 2)).toEqual([0, 4]);
  });
});

describe('neighboursCsv', () => {
  const row = (over: Partial<NeighbourRow>): NeighbourRow => ({
    rank: 1,
    id: 'a',
    row: 0,
    name: 'n',
    artists: '',
    year: 2000,
    distance: 0.5,
    ...over,
  });

  it('quotes commas, quotes and line breaks, and defuses formulas', () => {
    const csv = neighboursCsv([
      row({ name: 'Hello, "World"', artists: "['A', 'B']" }),
      row({ rank: 2, name: 'line\nbreak', year: null }),
      row({ rank: 3, name: '=HYPERLINK("x")', artists: '+1' }),
    ]);
    expect(csv.split('\r\n')).toEqual([
      'rank,id,row,name,artists,year,distance',
      `1,a,0,"Hello, ""World""","['A', 'B']",2000,0.5`,
      '2,a,0,"line\nbreak",,,0.5',
      `3,a,0,"'=HYPERLINK(""x"")",'+1,2000,0.5`,
      '',
    ]);
  });
});
