import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { s3Endpoint } from '../helpers/s3.ts';
import { LOCAL_REGION } from '../../lib/emulators/moto.ts';
import { eventOfDeadLetter, replayDeadLetters } from '../../lib/aws/dead-letters.ts';
import { eventBridgeObjectCreated, s3PutEvent, uploadsOf } from '../../lib/aws/s3-event.ts';

// moto_server serves SQS on the same endpoint as S3: a real queue API, not a mock.
let sqs: SQSClient;
beforeAll(() => {
  sqs = new SQSClient({ endpoint: s3Endpoint(), region: LOCAL_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});
afterAll(() => sqs.destroy());

async function queueWith(name: string, bodies: unknown[]): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  for (const b of bodies) await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(b) }));
  return QueueUrl!;
}

const visible = async (url: string) =>
  Number(
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes
      ?.ApproximateNumberOfMessages,
  );

describe('the dead-letter queue', () => {
  it('reads the event out of an on-failure record and takes an EventBridge event as it is', () => {
    const event = eventBridgeObjectCreated('b', 'incoming/a.parquet', '"e"');
    expect(eventOfDeadLetter(JSON.stringify({ requestContext: {}, requestPayload: event }))).toEqual(event);
    expect(eventOfDeadLetter(JSON.stringify(event))).toEqual(event);
  });

  it('replays every event through start, deletes those that started, and leaves the one that fails again', async () => {
    const url = await queueWith(`dlq-${process.pid}-1`, [
      { requestContext: { condition: 'RetriesExhausted' }, requestPayload: s3PutEvent('b', 'incoming/one.parquet', '"1"') },
      eventBridgeObjectCreated('b', 'incoming/two.parquet', '"2"'),
      eventBridgeObjectCreated('b', 'incoming/broken.parquet', '"3"'),
    ]);
    const started: string[] = [];
    const report = await replayDeadLetters(sqs, url, async (event) => {
      const [upload] = uploadsOf(event);
      if (upload!.key.includes('broken')) throw new Error('still throttled');
      started.push(upload!.key);
    });
    expect(started.sort()).toEqual(['incoming/one.parquet', 'incoming/two.parquet']);
    expect(report.replayed).toBe(2);
    expect(report.failed).toEqual([{ messageId: expect.any(String), message: 'still throttled' }]);
    // The failed one is in flight (its visibility timeout), not deleted; the others are gone.
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible)).toBe(1);
    expect(await visible(url)).toBe(0);
  });
});
