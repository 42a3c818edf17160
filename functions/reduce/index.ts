/** Stitches a job's shards into the published outputs, manifest last; invoked by the job under its publish lock. */
import { s3ClientFromEnv } from '../../lib/aws/clients.ts';
import { readPrefixes } from '../../lib/aws/config.ts';
import { reduceHandler } from '../../lib/aws/handlers.ts';
import { telemetryFromEnv } from '../../lib/aws/telemetry-env.ts';

const { telemetry, trace } = telemetryFromEnv('reduce');
export const handler = reduceHandler({ s3: trace(s3ClientFromEnv()), prefixes: readPrefixes(process.env), telemetry });
