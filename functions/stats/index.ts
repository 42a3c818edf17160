/** One statistics task of a job (both passes, or one part's sums or deviations), invoked by the job. */
import { s3ClientFromEnv } from '../../lib/aws/clients.ts';
import { readPrefixes } from '../../lib/aws/config.ts';
import { statsHandler } from '../../lib/aws/handlers.ts';
import { telemetryFromEnv } from '../../lib/aws/telemetry-env.ts';

const { telemetry, trace } = telemetryFromEnv('stats');
export const handler = statsHandler({ s3: trace(s3ClientFromEnv()), prefixes: readPrefixes(process.env), telemetry });
