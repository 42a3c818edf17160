/**
 * Type-ahead search over the tracks: an id typed whole, then names that start with the text, then
 * names and artists that contain it (case- and accent-insensitive), each group in row order.
 */

/** The lower-cased, accent-free text of every row's name and artists, built once. */
export interface SearchIndex {
  names: string[];
  artists: string[];
}

/** Folds text for matching: lower case, accents removed (é → e). */
export function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

/** The index of `names` and `artists` (one entry per row). */
export function buildSearchIndex(names: readonly string[], artists: readonly string[]): SearchIndex {
  return { names: names.map(fold), artists: artists.map(fold) };
}

/**
 * Up to `limit` rows matching `query`: the row of an id equal to it, then rows whose name starts
 * with it, then rows whose name or artists contain it. An empty query matches nothing.
 */
export function searchTracks(index: SearchIndex, idToRow: ReadonlyMap<string, number>, query: string, limit: number): number[] {
  const q = fold(query.trim());
  if (q === '' || limit <= 0) return [];
  const out: number[] = [];
  const byId = idToRow.get(query.trim());
  if (byId !== undefined) out.push(byId);
  const contains: number[] = [];
  const { names, artists } = index;
  for (let r = 0; r < names.length && out.length < limit; r++) {
    if (r === byId) continue;
    const name = names[r]!;
    if (name.startsWith(q)) out.push(r);
    else if (contains.length < limit && (name.includes(q) || artists[r]!.includes(q))) contains.push(r);
  }
  for (const r of contains) {
    if (out.length >= limit) break;
    out.push(r);
  }
  return out;
}
