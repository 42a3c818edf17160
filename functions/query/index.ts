/** Function URL (AWS_IAM) or direct invocation → the nearest tracks in a published output. */
import { s3ClientFromEnv } from '../../lib/aws/clients.ts';
import { queryConfig, queryHandler } from '../../lib/aws/query-handler.ts';
import { telemetryFromEnv } from '../../lib/aws/telemetry-env.ts';

const { telemetry, trace } = telemetryFromEnv('query');
export const handler = queryHandler({ s3: trace(s3ClientFromEnv()), ...queryConfig(process.env), telemetry });
