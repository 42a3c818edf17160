import { describe, expect, it } from 'vitest';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keysPart, rowidsPart, writeLocalIdIndex } from '../../lib/local/id-index-files.ts';
import { ID_INDEX_FILE, idIndexHeaderBytes, pieceCapacity } from '../../lib/outputs/id-index.ts';
import { OutputFolder } from '../../lib/io/output-folder.ts';
import { useTmp } from '../helpers/tmp.ts';

const tmp = useTmp();

describe('writeLocalIdIndex', () => {
  it('fails with the partition build’s own error, its row-block copy finished first and its key files removed', async () => {
    const out = await OutputFolder.open(join(tmp(), 'out'));
    try {
      const layout = { partBits: 0, bucketBits: 4 };
      // A row block of many copy chunks: still being copied in when the build fails.
      const blockBytes = 48 << 20;
      writeFileSync(out.path(rowidsPart(0)), new Uint8Array(blockBytes).fill(7));
      writeFileSync(out.path(keysPart(0)), new Uint8Array(0));
      const shards = [{ index: 0, startRow: 0, rows: 1, segments: [] }];
      const failed = writeLocalIdIndex(
        shards,
        [{ keyOffsets: [0, 0], fragmentWritten: true }],
        layout,
        1,
        out,
        () => '',
        () => Promise.reject(new Error('a partition failed')),
      );
      await expect(failed).rejects.toThrow('a partition failed');
      // Nothing is still writing once it has failed: the block is in whole, where it was planned.
      expect(statSync(out.path(ID_INDEX_FILE)).size).toBe(idIndexHeaderBytes(1, 1) + pieceCapacity(0, layout) + blockBytes);
      expect(existsSync(out.path(keysPart(0)))).toBe(false);
    } finally {
      await out.discard();
    }
  });
});
