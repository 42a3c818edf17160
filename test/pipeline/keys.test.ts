import { describe, expect, it } from 'vitest';
import {
  jobIdFor,
  jobKeys,
  keyProblem,
  outputKeys,
  outputName,
  publishLockKey,
  rejectedKeyErrorKey,
  DEFAULT_PREFIXES,
} from '../../lib/pipeline/keys.ts';

describe('the job layout', () => {
  it('names outputs after the key below the input prefix, nested folders kept', () => {
    expect(outputName('incoming/nested/dir/My Song.parquet')).toBe('nested/dir/My Song');
    expect(outputKeys('nested/dir/My Song').manifest).toBe('embeddings/nested/dir/My Song/manifest.json');
  });

  it('gives one job per version of an object and per run of it, each a valid execution name', () => {
    const a = jobIdFor('b', 'incoming/x.parquet', '"e1"');
    expect(jobIdFor('b', 'incoming/x.parquet', '"e1"')).toBe(a);
    expect(jobIdFor('b', 'incoming/x.parquet', '"e1"', 0)).toBe(a);
    expect(jobIdFor('b', 'incoming/x.parquet', '"e2"')).not.toBe(a);
    expect(jobIdFor('c', 'incoming/x.parquet', '"e1"')).not.toBe(a);
    expect(jobIdFor('b', 'incoming/x.parquet', '"e1"', 1)).toBe(`${a}-g1`);
    expect(jobIdFor('b', 'incoming/x.parquet', '"e1"', 12)).toBe(`${a}-g12`);
    // Lambda's execution names: [a-zA-Z0-9-_], at most 64 characters.
    expect(`${a}-g12`).toMatch(/^[0-9a-f]{24}-g12$/);
    expect(jobKeys(a).vectors(3)).toBe(`jobs/${a}/shards/3/vectors.f32`);
  });

  it('keeps the publish lock and a refused key’s error.json at keys of fixed length, whatever the name', () => {
    const long = 'x'.repeat(1000);
    expect(publishLockKey(long)).toMatch(/^jobs\/publish-locks\/[0-9a-f]{32}$/);
    expect(publishLockKey('a')).not.toBe(publishLockKey('b'));
    expect(rejectedKeyErrorKey(`incoming/${long}.parquet`)).toMatch(/^embeddings\/_rejected\/[0-9a-f]{32}\/error\.json$/);
    expect(rejectedKeyErrorKey('incoming/a.PARQUET')).not.toBe(rejectedKeyErrorKey('incoming/b.PARQUET'));
  });
});

describe('keys whose outputs cannot be written', () => {
  it.each([
    ['incoming/tracks.parquet', null],
    ['incoming/nested/My Song + Mix café 🎵.parquet', null],
    ['incoming/x.parquet.parquet', null],
    ['elsewhere/tracks.parquet', 'it is not under incoming/'],
    ['incoming/tracks.csv', 'it does not end in .parquet'],
    ['incoming/X.PARQUET', "its suffix is '.PARQUET': the pipeline takes '.parquet', in lower case"],
    ['incoming/a/../b.parquet', "its name 'a/../b' has an empty, '.' or '..' path segment"],
    ['incoming/a/./b.parquet', "its name 'a/./b' has an empty, '.' or '..' path segment"],
    ['incoming/a//b.parquet', "its name 'a//b' has an empty, '.' or '..' path segment"],
    ['incoming/.parquet', "its name '' has an empty, '.' or '..' path segment"],
    ['incoming/tab\there.parquet', 'it contains control characters'],
    ['incoming/del\u007f.parquet', 'it contains control characters'],
  ])('%j: %s', (key, problem) => {
    const found = keyProblem(key);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });

  it('refuses a name whose longest output key passes 1,024 bytes, saying by how much, and takes one just within', () => {
    // `embeddings/` + name + `/parquet/part-99999.parquet`: 38 bytes around the name.
    const within = 'é'.repeat(493);
    expect(keyProblem(`incoming/${within}.parquet`)).toBeNull();
    expect(keyProblem(`incoming/${within}a.parquet`)).toBe(
      "its outputs' keys would be 1025 bytes, past S3's 1024: shorten the name by 1 bytes",
    );
  });

  it('checks against the configured prefixes', () => {
    const prefixes = { ...DEFAULT_PREFIXES, input: 'in/' };
    expect(keyProblem('in/tracks.parquet', prefixes)).toBeNull();
    expect(keyProblem('incoming/tracks.parquet', prefixes)).toBe('it is not under in/');
  });
});
