/** The durable job: statistics, a map of embed invokes over the shards, the reduce and publish. */
import { s3ClientFromEnv } from '../../lib/aws/clients.ts';
import { readJobConfig } from '../../lib/aws/config.ts';
import { jobHandler } from '../../lib/aws/handlers.ts';

const config = readJobConfig(process.env);
export const handler = jobHandler({ s3: s3ClientFromEnv(), prefixes: config.prefixes, config });
