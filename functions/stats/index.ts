/** S3 ObjectCreated on incoming/*.parquet (or one stats part) → statistics, plan, fan-out. */
import { clientsFromEnv } from '../../lib/aws/clients.ts';
import { readConfig } from '../../lib/aws/config.ts';
import { statsHandler } from '../../lib/aws/handlers.ts';

export const handler = statsHandler({ ...clientsFromEnv(), config: readConfig(process.env) });
