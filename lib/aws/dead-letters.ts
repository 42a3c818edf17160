/**
 * The dead-letter queue of the start function: S3 events that could not start a job (EventBridge
 * could not deliver them, or the start function failed on every attempt). `replayDeadLetters`
 * hands each one's event to `start` again and deletes it once that succeeded, so a replay that
 * fails half-way leaves the rest in the queue.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface ReplayReport {
  replayed: number;
  /** Messages whose event failed again (left in the queue, visible again after its visibility timeout). */
  failed: { messageId: string; message: string }[];
}

/** The S3 event a dead letter carries: Lambda's on-failure record wraps it in `requestPayload`; EventBridge sends it as it is. */
export function eventOfDeadLetter(body: string): unknown {
  const parsed = JSON.parse(body) as { requestPayload?: unknown };
  return parsed && typeof parsed === 'object' && 'requestPayload' in parsed ? parsed.requestPayload : parsed;
}

/** Replays every message in `queueUrl` through `start` until the queue answers empty. */
export async function replayDeadLetters(sqs: SQSClient, queueUrl: string, start: (event: unknown) => Promise<void>): Promise<ReplayReport> {
  const report: ReplayReport = { replayed: 0, failed: [] };
  const seen = new Set<string>();
  for (;;) {
    const got = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 300 }),
    );
    const messages = (got.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (messages.length === 0) return report;
    for (const m of messages) {
      seen.add(m.MessageId!);
      try {
        await start(eventOfDeadLetter(m.Body ?? 'null'));
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
        report.replayed++;
      } catch (e: unknown) {
        report.failed.push({ messageId: m.MessageId!, message: e instanceof Error ? e.message : String(e) });
      }
    }
  }
}
