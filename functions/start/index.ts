/** S3 upload under incoming/ (via EventBridge) → one durable execution of the job function per upload. */
import { clientsFromEnv } from '../../lib/aws/clients.ts';
import { readStartConfig } from '../../lib/aws/config.ts';
import { durableStarter } from '../../lib/aws/durable-starter.ts';
import { startHandler } from '../../lib/aws/handlers.ts';
import { telemetryFromEnv } from '../../lib/aws/telemetry-env.ts';

const clients = clientsFromEnv();
const config = readStartConfig(process.env);
const { telemetry, trace } = telemetryFromEnv('start');
const [s3, lambda] = [trace(clients.s3), trace(clients.lambda)];
export const handler = startHandler({ s3, prefixes: config.prefixes, starter: durableStarter(lambda, config.jobFunction), telemetry });
