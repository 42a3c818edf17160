/** Reads whose bytes the simulated bodies do not need: the requests and transfers are what count. */
import type { ByteSource } from '../io/byte-source.ts';

const RANGE = 8 * 1024 * 1024;
/** lib/aws/s3-source.ts MAX_IN_FLIGHT. */
const IN_FLIGHT = 8;

/** Ranged GETs of `bytes` bytes, in 8 MiB ranges, 8 in flight (what the S3 byte source does). */
export async function readRanges(source: ByteSource, bytes: number, inFlight = IN_FLIGHT): Promise<void> {
  const reads = Array.from({ length: Math.ceil(bytes / RANGE) }, (_, i) => Math.min(RANGE, bytes - i * RANGE));
  let at = 0;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, reads.length) }, async () => {
      while (at < reads.length) await sizedRead(source, reads[at++]!);
    }),
  );
}

/** One ranged read of `len` bytes (clipped to the object). */
export const sizedRead = (source: ByteSource, len: number) => source.read(0, Math.min(len, source.size));
