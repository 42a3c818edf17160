/** Function URL (AWS_IAM) or direct invocation → the nearest tracks in a published output. */
import { s3ClientFromEnv } from '../../lib/aws/clients.ts';
import { queryConfig, queryHandler } from '../../lib/aws/query-handler.ts';

export const handler = queryHandler({ s3: s3ClientFromEnv(), ...queryConfig(process.env) });
