import { open, type FileHandle } from 'node:fs/promises';
import type { ByteSource } from './byte-source.ts';
import { InvalidInputError, SourceError, messageOf } from '../errors.ts';

/** A ByteSource over a local file, read with positional reads; close it when done. */
export interface FileSource extends ByteSource {
  close(): Promise<void>;
}

/** Opens a local file read-only; a missing or unreadable file is an InvalidInputError. */
export async function openFileSource(path: string): Promise<FileSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e: unknown) {
    throw new InvalidInputError(path, `cannot open: ${messageOf(e)}`, { cause: e });
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new InvalidInputError(path, 'not a regular file');
  }
  const size = stat.size;
  return {
    name: path,
    size,
    async read(offset, length) {
      const out = new Uint8Array(length);
      let done = 0;
      try {
        while (done < length) {
          const { bytesRead } = await handle.read(out, done, length - done, offset + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
      } catch (e: unknown) {
        throw new SourceError(`${path}: read of ${length} bytes at ${offset} failed: ${messageOf(e)}`, { cause: e });
      }
      if (done < length) {
        throw new SourceError(`${path}: file shrank while reading (wanted ${length} bytes at ${offset}, got ${done})`);
      }
      return out;
    },
    close: () => handle.close(),
  };
}
