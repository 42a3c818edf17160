/** The on-failure destination of stats, embed and reduce: an invocation that failed after its retries fails its job. */
import { clientsFromEnv } from '../../lib/aws/clients.ts';
import { readConfig } from '../../lib/aws/config.ts';
import { failureHandler } from '../../lib/aws/handlers.ts';

export const handler = failureHandler({ ...clientsFromEnv(), config: readConfig(process.env) });
