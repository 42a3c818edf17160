/** Stitches a finished job's shards into the published outputs, manifest last. */
import { clientsFromEnv } from '../../lib/aws/clients.ts';
import { readConfig } from '../../lib/aws/config.ts';
import { reduceHandler } from '../../lib/aws/handlers.ts';

export const handler = reduceHandler({ ...clientsFromEnv(), config: readConfig(process.env) });
