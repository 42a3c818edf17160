/**
 * Logs, metrics and traces of one function, per invocation, over Powertools for AWS Lambda:
 * every log line is one JSON object carrying the job's id, key, ETag and the step; the metrics
 * of an invocation leave as one EMF blob when it ends; with a tracer, the invocation is one X-Ray
 * subsegment annotated with the job id. A Telemetry is built once per function (at module scope
 * in functions/*, or by the local stack) and handed to the handler factories: no global state.
 */
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricUnit as Unit } from '@aws-lambda-powertools/metrics/types';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { METRICS_NAMESPACE, type MetricName, type StepName } from './metric-names.ts';

export { MetricUnit } from '@aws-lambda-powertools/metrics';

/** What every log line of a job's invocation names (absent fields are left out, never guessed). */
export interface JobFields {
  jobId?: string | undefined;
  key?: string | undefined;
  etag?: string | undefined;
}

export interface TelemetryOptions {
  /** The `service` of every log line and metric: the stack's name. */
  service: string;
  /** The function, as the `step` dimension and log key name it. */
  step: StepName;
  /** Where log lines and EMF blobs go (Lambda: stdout, which CloudWatch Logs collects). */
  out?: Writable;
  logLevel?: LogLevel;
  namespace?: string;
  /** On when the stack's `tracing` context flag is; each invocation is then a subsegment. */
  tracer?: Tracer;
}

/** The Lambda context fields the logger adds (request id, function name, memory), when given. */
export interface ContextLike {
  awsRequestId: string;
  functionName: string;
  memoryLimitInMB: string | number;
}

/** One invocation's logger and metrics. */
export interface Invocation {
  readonly log: Logger;
  /** Adds one metric value to the invocation's blob. */
  metric(name: MetricName, value: number, unit?: Unit): void;
  /** Adds fields to every later log line of the invocation (a job id learnt on the way). */
  name(fields: JobFields): void;
}

export class Telemetry {
  private readonly out: Writable;
  constructor(private readonly options: TelemetryOptions) {
    this.out = options.out ?? process.stdout;
  }

  get step(): StepName {
    return this.options.step;
  }

  /**
   * Runs one invocation: its log lines carry `fields`; it ends with a line saying how long it
   * took (or the error, then rethrown) and the blob of its metrics, StepDuration and
   * StepFailures included.
   */
  async run<T>(fields: JobFields, context: ContextLike | undefined, work: (inv: Invocation) => Promise<T>): Promise<T> {
    const { step } = this.options;
    const log = this.logger(fields);
    if (context) log.appendKeys({ requestId: context.awsRequestId, memoryMb: Number(context.memoryLimitInMB) });
    const metrics = this.metrics();
    const tracer = this.options.tracer?.isTracingEnabled() ? this.options.tracer : undefined;
    const parent = tracer?.getSegment();
    const segment = parent?.addNewSubsegment(`## ${step}`);
    if (tracer && segment) {
      tracer.setSegment(segment);
      tracer.putAnnotation('step', step);
      if (fields.jobId) tracer.putAnnotation('jobId', fields.jobId);
    }
    const inv: Invocation = {
      log,
      metric: (name, value, unit: Unit = MetricUnit.Count) => metrics.addMetric(name, unit, value),
      name: (more) => {
        const defined = Object.fromEntries(Object.entries(more).filter(([, v]) => v !== undefined)) as Record<string, string>;
        log.appendKeys(defined);
        if (tracer && defined.jobId) tracer.putAnnotation('jobId', defined.jobId);
      },
    };
    const t0 = performance.now();
    try {
      const result = await work(inv);
      const ms = performance.now() - t0;
      metrics.addMetric('StepDuration' satisfies MetricName, MetricUnit.Milliseconds, ms);
      log.info(`${step} done`, { durationMs: Math.round(ms) });
      return result;
    } catch (e: unknown) {
      metrics.addMetric('StepFailures' satisfies MetricName, MetricUnit.Count, 1);
      metrics.addMetric('StepDuration' satisfies MetricName, MetricUnit.Milliseconds, performance.now() - t0);
      log.error(`${step} failed`, e instanceof Error ? e : String(e));
      if (tracer && e instanceof Error) tracer.addErrorAsMetadata(e);
      throw e;
    } finally {
      metrics.publishStoredMetrics();
      if (segment && parent) {
        segment.close();
        tracer?.setSegment(parent);
      }
    }
  }

  /** A logger whose every line names the service, the step and the job's fields. */
  logger(fields: JobFields): Logger {
    const keys = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const log = new Logger({
      serviceName: this.options.service,
      logLevel: this.options.logLevel ?? 'INFO',
      persistentKeys: { step: this.options.step, ...keys },
    });
    redirect(log, this.out);
    return log;
  }

  private metrics(): Metrics {
    const metrics = new Metrics({
      namespace: this.options.namespace ?? METRICS_NAMESPACE,
      serviceName: this.options.service,
      defaultDimensions: { step: this.options.step },
      // A quiet invocation (a retry that found its work done) publishes no empty blob, and says nothing of it.
      logger: { warn: () => {}, debug: () => {}, info: () => {}, error: () => {} } as never,
    });
    redirect(metrics, this.out);
    return metrics;
  }
}

/** Output written nowhere (unit tests, the local stack when nobody reads its logs). */
export const DISCARD: Writable = new Writable({ write: (_chunk, _enc, done) => done() });

/** A Telemetry that writes nowhere: what a handler factory uses when it is given none. */
export const silentTelemetry = (step: StepName): Telemetry => new Telemetry({ service: 'track-embeddings', step, out: DISCARD });

/**
 * Points a Powertools Logger or Metrics at `out`. Both print through a private `Console` over
 * stdout/stderr (what Lambda collects); the local pipeline and the tests give them a stream of
 * their own so that a command's stdout carries only its answer.
 */
function redirect(tool: Logger | Metrics, out: Writable): void {
  if (out === process.stdout) return;
  (tool as unknown as { console: Console }).console = Object.assign(new Console({ stdout: out, stderr: out }), {
    trace: (...args: unknown[]) => (tool as unknown as { console: Console }).console.log(...args),
  });
}
