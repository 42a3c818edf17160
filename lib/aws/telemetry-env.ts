/**
 * A function's Telemetry from its environment, as the stack sets it: POWERTOOLS_SERVICE_NAME
 * (the stack), POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_NAMESPACE, and POWERTOOLS_TRACE_ENABLED
 * (the `tracing` context flag) which turns X-Ray on. `trace` wraps an SDK client so its calls
 * are subsegments; without tracing it returns the client untouched.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { Telemetry } from '../observability/telemetry.ts';
import { METRICS_NAMESPACE, type StepName } from '../observability/metric-names.ts';

export interface FunctionTelemetry {
  telemetry: Telemetry;
  trace<T>(client: T): T;
}

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];

/** The Telemetry of function `step`, over stdout (what Lambda sends to the function's log group). */
export function telemetryFromEnv(step: StepName, env: NodeJS.ProcessEnv = process.env): FunctionTelemetry {
  const service = env.POWERTOOLS_SERVICE_NAME || 'track-embeddings';
  const level = (env.POWERTOOLS_LOG_LEVEL ?? 'INFO').toUpperCase();
  const tracing = env.POWERTOOLS_TRACE_ENABLED === 'true';
  const tracer = tracing ? new Tracer({ serviceName: service, enabled: true }) : undefined;
  const telemetry = new Telemetry({
    service,
    step,
    logLevel: (LEVELS.includes(level) ? level : 'INFO') as LogLevel,
    namespace: env.POWERTOOLS_METRICS_NAMESPACE || METRICS_NAMESPACE,
    ...(tracer && { tracer }),
  });
  return { telemetry, trace: (client) => (tracer ? tracer.captureAWSv3Client(client) : client) };
}
