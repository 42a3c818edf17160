/** The durable job: statistics, a map of embed invokes over the shards, the reduce and publish. */
import { s3ClientFromEnv } from '../../lib/aws/clients.ts';
import { readJobConfig } from '../../lib/aws/config.ts';
import { jobHandler } from '../../lib/aws/handlers.ts';
import { telemetryFromEnv } from '../../lib/aws/telemetry-env.ts';

const config = readJobConfig(process.env);
const { telemetry, trace } = telemetryFromEnv('job');
export const handler = jobHandler({ s3: trace(s3ClientFromEnv()), prefixes: config.prefixes, config, telemetry });
