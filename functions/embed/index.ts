/** One shard: embed it, write its objects; the last shard to finish invokes the reducer once. */
import { clientsFromEnv } from '../../lib/aws/clients.ts';
import { readConfig } from '../../lib/aws/config.ts';
import { embedHandler } from '../../lib/aws/handlers.ts';

export const handler = embedHandler({ ...clientsFromEnv(), config: readConfig(process.env) });
