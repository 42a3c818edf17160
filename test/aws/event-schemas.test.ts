import { describe, expect, it } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { embedHandler, InvalidEventError, reduceHandler, statsHandler } from '../../lib/aws/handlers.ts';
import { embedProblem, jobInputProblem, reduceProblem, statsProblem } from '../../lib/aws/event-schemas.ts';
import { DEFAULT_PREFIXES } from '../../lib/pipeline/keys.ts';

const job = { bucket: 'b', jobId: 'j', key: 'incoming/x.parquet', etag: '"e"', attempt: 2 };
const SECRET = 'sk_live_do_not_echo';

describe('the step functions’ event schemas', () => {
  it.each([
    [embedProblem, { ...job, shard: 0 }],
    [reduceProblem, { bucket: 'b', jobId: 'j' }],
    [reduceProblem, { ...job, task: 'index partition', partition: 3 }],
    [reduceProblem, { ...job, task: 'rewrite fragment', shard: 0 }],
    [statsProblem, { ...job, task: 'whole' }],
    [statsProblem, { ...job, task: 'moments', part: 3 }],
    [statsProblem, { ...job, task: 'deviations', part: 0, means: [0.5, null] }],
    [jobInputProblem, { bucket: 'b', key: 'incoming/x.parquet', etag: '"e"', jobId: 'j', generation: 0 }],
  ])('%o accepts %j', (problemOf, event) => {
    expect(problemOf(event)).toBeNull();
  });

  it.each([
    [embedProblem, { ...job, shard: -1 }, /^'shard' must be a shard index/],
    [embedProblem, { ...job, shard: '1' }, /^'shard' must be a shard index/],
    [embedProblem, { ...job }, /^'shard' must be a shard index/],
    [reduceProblem, { ...job, shard: 1 }, /^a reduce takes no 'partition' or 'shard'$/],
    [reduceProblem, { ...job, wat: 1 }, /^the event has 1 field\(s\) this function does not take/],
    [reduceProblem, { ...job, task: 'index partition', partition: -1 }, /^task 'index partition' takes a 'partition' index/],
    [reduceProblem, { ...job, task: 'rewrite fragment', partition: 0 }, /^task 'rewrite fragment' takes a 'shard' index/],
    [reduceProblem, { ...job, task: 'everything' }, /^'task' must be one of index partition, rewrite fragment/],
    [reduceProblem, { bucket: 'b'.repeat(64), jobId: 'j' }, /^'bucket' must be a bucket name$/],
    [reduceProblem, { bucket: 'b', jobId: 'j', attempt: 0 }, /^'attempt' must be a positive integer$/],
    [reduceProblem, null, /^the event must be a JSON object$/],
    [reduceProblem, [job], /^the event must be a JSON object$/],
    [statsProblem, { ...job, task: 'whole', part: 1 }, /^task 'whole' takes no 'part' or 'means'$/],
    [statsProblem, { ...job, task: 'everything' }, /^'task' must be one of whole, moments, deviations$/],
    [statsProblem, { ...job, task: 'deviations', part: 0, means: ['x'] }, /^'means' must be a list of numbers/],
    [jobInputProblem, { bucket: 'b', key: 'k', etag: 'e', jobId: 'j' }, /^'generation' must be an integer from 0$/],
  ])('%o refuses %j, naming the field', (problemOf, event, message) => {
    expect(problemOf(event)).toMatch(message);
  });

  it.each([
    ['stats', statsHandler],
    ['embed', embedHandler],
    ['reduce', reduceHandler],
  ] as const)('the %s handler refuses a bad event with InvalidEventError and does not echo it', async (_name, factory) => {
    const handler = factory({ s3: new S3Client({ region: 'us-east-1' }), prefixes: DEFAULT_PREFIXES });
    const event = { bucket: 'b', jobId: 'j', [SECRET]: SECRET.repeat(100) };
    await expect(handler(event)).rejects.toThrow(InvalidEventError);
    await expect(handler(event)).rejects.not.toThrow(new RegExp(SECRET));
  });
});
