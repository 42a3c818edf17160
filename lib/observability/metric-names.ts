/**
 * The pipeline's metric names and namespace, spelled once: the handlers emit them as EMF, the
 * stack's dashboard and alarms read them. Every metric has the dimensions `service` (the stack
 * name) and `step` (start, job, stats, embed, reduce, query).
 */
export const METRICS_NAMESPACE = 'TrackEmbeddings';

export const METRIC = {
  /** start: an upload that started a job's execution. */
  jobsStarted: 'JobsStarted',
  /** job: an execution that published its outputs. */
  jobsPublished: 'JobsPublished',
  /** job: an execution that ended with error.json. */
  jobsFailed: 'JobsFailed',
  /** job: an execution whose input was replaced meanwhile (the newer upload's job publishes). */
  jobsSuperseded: 'JobsSuperseded',
  /** job: from the upload's Last-Modified to the end of the publish, in milliseconds. */
  jobLatency: 'JobLatency',
  /** stats, embed, reduce: rows the invocation worked on. */
  rows: 'Rows',
  /** embed: input bytes read with ranged GETs. */
  bytesRead: 'BytesRead',
  /** Every step: the invocation's duration, in milliseconds. */
  stepDuration: 'StepDuration',
  /** stats, embed, reduce: an invoke that was the job's second or later attempt. */
  retries: 'Retries',
  /** Every step: an invocation that threw. */
  stepFailures: 'StepFailures',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** The steps, as the `step` dimension names them. */
export const STEPS = ['start', 'job', 'stats', 'embed', 'reduce', 'query'] as const;
export type StepName = (typeof STEPS)[number];
