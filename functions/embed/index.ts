/** One shard of a job, invoked by the job's map: embed it, write its objects and its record. */
import { s3ClientFromEnv } from '../../lib/aws/clients.ts';
import { readPrefixes } from '../../lib/aws/config.ts';
import { embedHandler } from '../../lib/aws/handlers.ts';
import { telemetryFromEnv } from '../../lib/aws/telemetry-env.ts';

const { telemetry, trace } = telemetryFromEnv('embed');
export const handler = embedHandler({ s3: trace(s3ClientFromEnv()), prefixes: readPrefixes(process.env), telemetry });
