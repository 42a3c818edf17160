/**
 * Where a V8 CPU profile's time goes, by concern: each sample is charged to the innermost frame
 * of its stack that names a concern (decode, statistics, embed, mapping, writes, GC, module
 * load, ...), with bundle frames mapped back to their source files through the bundle's source
 * map. Used by bench/profile.ts; plain functions over the .cpuprofile JSON.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The concerns a sample can be charged to, in the order the tables list them. */
export const CATEGORIES = [
  'module load (compile, link, evaluate)',
  'wasm instantiation',
  'S3 client + HTTP',
  'read (file / range cache)',
  'decode: page decoders (Snappy, pages → typed arrays)',
  'decode: parquet-wasm (wasm + glue)',
  'decode: Arrow/FFI → typed arrays',
  'statistics (sums, deviations)',
  'embed (kernel)',
  'ids: hashing, JSON escaping, repeats',
  'id index (keys, sort, partitions)',
  'writes (.npy rows, fragments, outputs)',
  'worker messaging (postMessage, clone)',
  'task glue (runner, shard loop)',
  'GC',
  'VM other ((program))',
  'other JS / native',
  'idle (waiting, not CPU)',
] as const;
export type Category = (typeof CATEGORIES)[number];

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
/** The parts of a `.cpuprofile` this module reads. */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Milliseconds of samples per category, and the profile's whole span. */
export interface Breakdown {
  ms: Record<Category, number>;
  spanMs: number;
}

const maps = new Map<string, SourceMap | null>();
function sourceMapFor(url: string): SourceMap | null {
  if (!maps.has(url)) {
    let map: SourceMap | null = null;
    const path = `${fileURLToPath(url)}.map`;
    if (existsSync(path)) map = new SourceMap(JSON.parse(readFileSync(path, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
    maps.set(url, map);
  }
  return maps.get(url)!;
}

/** The source file a frame comes from: the bundle's source-mapped original, or its own URL. */
function sourceOf(frame: CallFrame): string {
  if (!frame.url.startsWith('file://')) return frame.url;
  const entry = sourceMapFor(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string } | undefined;
  return entry?.originalSource ?? frame.url;
}

const RULES: readonly [RegExp, Category][] = [
  [/lib\/embedding\/(stats|pairwise-sum|finite)\.ts$/, 'statistics (sums, deviations)'],
  [/lib\/embedding\/kernel\.ts$/, 'embed (kernel)'],
  [/lib\/outputs\/(mapping|repeated-ids|fragment)\.ts$|lib\/pipeline\/dict-mapping\.ts$/, 'ids: hashing, JSON escaping, repeats'],
  [
    /lib\/embedding\/(columns|dtypes)\.ts$|lib\/local\/retained-reader\.ts$|node_modules\/(apache-arrow|arrow-js-ffi|flatbuffers)\//,
    'decode: Arrow/FFI → typed arrays',
  ],
  [
    /lib\/parquet\/(pages|numeric-pages|string-pages|snappy|rle-hybrid|arrow-hint)\.ts$/,
    'decode: page decoders (Snappy, pages → typed arrays)',
  ],
  [/node_modules\/parquet-wasm\/|^wasm:\/\/|lib\/parquet\/(reader|panic-guard|wasm)\.ts$/, 'decode: parquet-wasm (wasm + glue)'],
  [/lib\/outputs\/id-index\.ts$|lib\/local\/id-index-files\.ts$/, 'id index (keys, sort, partitions)'],
  [
    /lib\/parquet\/(range-cache|footer|thrift-compact)\.ts$|lib\/io\/(file-source|byte-source)\.ts$|lib\/aws\/s3-source\.ts$/,
    'read (file / range cache)',
  ],
  [/lib\/outputs\/|lib\/io\/(byte-writer|output-folder)\.ts$/, 'writes (.npy rows, fragments, outputs)'],
  [
    /node_modules\/(@aws-sdk|@smithy|@aws-crypto|fast-xml-parser|strnum|tslib|uuid)\/|^node:(internal\/)?(http|https|net|_http|tls|stream|dns)/,
    'S3 client + HTTP',
  ],
  [/lib\/(local|pipeline|embedding\/shard-work|cli|aws|emulators)|bin\/|bench\//, 'task glue (runner, shard loop)'],
];

/** The category of one frame on its own, or null when the frame says nothing (a builtin, a helper). */
function frameCategory(frame: CallFrame): Category | null {
  const { functionName: fn, url } = frame;
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle (waiting, not CPU)';
  if (fn === '(program)') return 'VM other ((program))';
  if (url === '') {
    if (fn === 'Module' || fn === 'Instance' || fn === 'instantiate' || fn === 'compile') return 'wasm instantiation';
    if (/^(writeBuffer|writeBuffers|writeString|write|writev|fsync|ftruncate|close)$/.test(fn))
      return 'writes (.npy rows, fragments, outputs)';
    if (/^(read|readFileUtf8|fstat|open)$/.test(fn)) return 'read (file / range cache)';
    if (fn === 'postMessage' || fn === 'receiveMessageOnPort') return 'worker messaging (postMessage, clone)';
    if (
      /^(compileSourceTextModule|compileFunction|compileFunctionForCJSLoader|link|evaluate|instantiate|compileForInternalLoader)$/.test(fn)
    )
      return 'module load (compile, link, evaluate)';
    return null;
  }
  if (
    /^node:internal\/(modules|vm|source_map)|^node:internal\/deps\/cjs-module-lexer/.test(url) ||
    /^(compileForInternalLoader|requireBuiltin)$/.test(fn)
  )
    return 'module load (compile, link, evaluate)';
  if (/^node:internal\/worker/.test(url)) return 'worker messaging (postMessage, clone)';
  if (/^node:internal\/fs/.test(url)) return null; // charged to whoever called it: a read or a write
  if (url.includes('parquet-wasm') && frame.lineNumber === 0 && fn === '') return 'wasm instantiation';
  const source = sourceOf(frame);
  for (const [re, category] of RULES) if (re.test(source)) return category;
  return null;
}

/** Charges each sample of `profile` to the innermost categorised frame of its stack. */
export function breakdown(profile: CpuProfile): Breakdown {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, Category>();
  const categoryOf = (id: number): Category => {
    const known = memo.get(id);
    if (known) return known;
    const own = frameCategory(byId.get(id)!.callFrame);
    const up = parent.get(id);
    // A sample under the module loader belongs to module load unless a frame below the loader names something else (wasm compile).
    const c = own ?? (up === undefined ? 'other JS / native' : categoryOf(up));
    memo.set(id, c);
    return c;
  };
  const ms = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  profile.samples.forEach((id, i) => (ms[categoryOf(id)] += (profile.timeDeltas[i] ?? 0) / 1000));
  return { ms, spanMs: (profile.endTime - profile.startTime) / 1000 };
}

/** The top `n` frames by self time, source-mapped: for looking further than the categories. */
export function topFrames(profile: CpuProfile, n: number): { frame: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') return;
    const where = f.url.startsWith('file://') ? sourceOf(f).replace(/^.*?(lib|bin|node_modules)\//, '$1/') : f.url.replace(/^.*\//, '');
    const key = `${f.functionName || '(anonymous)'} ${where}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([frame, ms]) => ({ frame, ms }));
}
