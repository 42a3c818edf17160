/**
 * The SDK signs an in-memory body by hashing it (SHA-256, the `x-amz-content-sha256` header) on
 * top of the CRC32 checksum it already sends for S3 to verify: for an embed shard's 60 MB of
 * writes that hash was 5 % of the step's CPU. With a checksum header present the body's
 * integrity is S3's check of that checksum (and TLS), so the signature can leave the payload out
 * (`UNSIGNED-PAYLOAD`, what S3 documents for single-chunk uploads and what botocore sends over
 * HTTPS). Requests without a checksum keep the signed payload. (moto does not check checksums,
 * so the tests can show the header sent, not S3's refusal of a body that does not match it.)
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
 */
import type { S3Client, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-s3';
import type { FinalizeRequestMiddleware } from '@smithy/types';

const CONTENT_SHA256 = 'x-amz-content-sha256';
const CHECKSUM = /^(x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)|content-md5)$/i;

const unsignedChecksummedPayload: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
  const headers = (args.request as { headers?: Record<string, string> }).headers;
  if (headers) {
    const names = Object.keys(headers);
    if (!names.some((h) => h.toLowerCase() === CONTENT_SHA256) && names.some((h) => CHECKSUM.test(h)))
      headers[CONTENT_SHA256] = 'UNSIGNED-PAYLOAD';
  }
  return next(args);
};

/** `client`, its checksummed requests signed without hashing their bodies. */
export function withUnsignedChecksummedPayloads<C extends S3Client>(client: C): C {
  client.middlewareStack.addRelativeTo(unsignedChecksummedPayload, {
    name: 'unsignedChecksummedPayload',
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
  });
  return client;
}
