import { describe, expect, it } from 'vitest';
import { jobIdFor, jobKeys, outputKeys, outputName } from '../../lib/pipeline/keys.ts';

describe('the job layout', () => {
  it('names outputs after the key below the input prefix, nested folders kept', () => {
    expect(outputName('incoming/nested/dir/My Song.parquet')).toBe('nested/dir/My Song');
    expect(outputKeys('nested/dir/My Song').manifest).toBe('embeddings/nested/dir/My Song/manifest.json');
  });

  it('gives one job per version of an object', () => {
    const a = jobIdFor('b', 'incoming/x.parquet', '"e1"');
    expect(jobIdFor('b', 'incoming/x.parquet', '"e1"')).toBe(a);
    expect(jobIdFor('b', 'incoming/x.parquet', '"e2"')).not.toBe(a);
    expect(jobIdFor('c', 'incoming/x.parquet', '"e1"')).not.toBe(a);
    expect(jobKeys(a).vectors(3)).toBe(`jobs/${a}/shards/3.f32`);
  });
});
