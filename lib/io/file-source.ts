/** The ByteSource port over a local file, refusing what is not a regular file before opening it. */
import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { ByteSource } from './byte-source.ts';
import { InvalidInputError, SourceError, messageOf } from '../errors.ts';

/** A ByteSource over a local file, read with positional reads; close it when done. */
export interface FileSource extends ByteSource {
  close(): Promise<void>;
}

/** Opens a local file read-only; a missing or unreadable file is an InvalidInputError. */
export async function openFileSource(path: string): Promise<FileSource> {
  // Checked before opening: opening a FIFO for reading blocks until a writer comes along.
  const before = await stat(path).catch((e: unknown) => {
    throw new InvalidInputError(path, `cannot open: ${messageOf(e)}`, { cause: e });
  });
  if (!before.isFile())
    throw new InvalidInputError(path, before.isDirectory() ? 'is a directory, not a Parquet file' : 'not a regular file');
  let handle: FileHandle;
  try {
    // O_NONBLOCK: should the path turn into a FIFO between the check and the open, the open still returns.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e: unknown) {
    throw new InvalidInputError(path, `cannot open: ${messageOf(e)}`, { cause: e });
  }
  const opened = await handle.stat();
  if (!opened.isFile()) {
    await handle.close();
    throw new InvalidInputError(path, 'not a regular file');
  }
  const size = opened.size;
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
