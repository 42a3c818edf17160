/**
 * Commands in pipes: the answer arrives whole through a slow reader, and a reader that closes
 * early (`| head -1`) ends the command quietly, exit 0, nothing on stderr.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../helpers/tmp.ts';
import { CLI, runCli } from '../helpers/cli.ts';

/** A reader that takes 64 KiB every 20 ms and counts the lines it got (the slow consumer). */
const SLOW_READER = `
const chunks = [];
const timer = setInterval(() => {
  const c = process.stdin.read(65536) ?? process.stdin.read();
  if (c !== null) chunks.push(c);
}, 20);
process.stdin.on("readable", () => {});
process.stdin.on("end", () => {
  clearInterval(timer);
  const text = Buffer.concat(chunks).toString();
  process.stdout.write(JSON.stringify({ bytes: text.length, lines: text.split("\\n").filter(Boolean) }));
});
`;

const sh = (script: string) => spawnSync('bash', ['-c', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });

describe('track-embeddings in a pipe', () => {
  let out = '';
  let id = '';

  // One output folder for the whole file (useTmp's are removed after each test).
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'track-embeddings-pipes-'));
    expect(runCli([fixture('tracks-5k.parquet'), '-o', out]).code).toBe(0);
    id = Object.keys(JSON.parse(readFileSync(join(out, 'id_to_index.json'), 'utf8')) as Record<string, number>)[0]!;
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('hands a slow reader every line of 3,000 neighbours as JSON', () => {
    const reader = join(out, 'slow-reader.cjs');
    writeFileSync(reader, SLOW_READER);
    const r = sh(`"${process.execPath}" "${CLI}" similar "${out}" --id ${id} --k 3000 --json | "${process.execPath}" "${reader}"`);
    const got = JSON.parse(r.stdout) as { bytes: number; lines: string[] };
    expect(got.lines).toHaveLength(3000);
    for (const line of got.lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(got.bytes).toBeGreaterThan(64 * 1024);
  });

  it('ends quietly with exit 0 when the reader closes after one line', () => {
    const r = sh(`"${process.execPath}" "${CLI}" similar "${out}" --id ${id} --k 3000 | head -1; echo "exit \${PIPESTATUS[0]}" >&2`);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toBe('exit 0');
  });
});
