/** Scheduled: redrives stalled jobs, starts uploads whose S3 event was lost, fails jobs that never finish. */
import { clientsFromEnv } from '../../lib/aws/clients.ts';
import { readBucket, readConfig } from '../../lib/aws/config.ts';
import { reconcileHandler } from '../../lib/aws/handlers.ts';

export const handler = reconcileHandler({ ...clientsFromEnv(), config: readConfig(process.env), bucket: readBucket(process.env) });
