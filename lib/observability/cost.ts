/**
 * What a job cost in Lambda, from the usage its invocations recorded: GB-seconds and requests per
 * function, and an estimate in US dollars at the list prices below. Pure; the handlers record
 * usage, the reducer sums it into the manifest, `status` prints it.
 */

/**
 * Lambda list prices, us-east-1, Arm (the stack's architecture), as published on
 * https://aws.amazon.com/lambda/pricing/ ("AWS Lambda Pricing", Arm price per GB-second for the
 * first 6 billion GB-seconds a month, and price per 1M requests); other regions and tiers differ.
 */
export const LAMBDA_PRICES = {
  source: 'https://aws.amazon.com/lambda/pricing/ (us-east-1, Arm, first tier)',
  usdPerGbSecond: 0.0000133334,
  usdPerRequest: 0.2 / 1_000_000,
} as const;

/** One invocation's usage, as its handler recorded it. */
export interface InvocationUsage {
  step: string;
  requestId: string;
  memoryMb: number;
  durationMs: number;
}

/** The manifest's `cost`: what was counted, per function and in total. */
export interface JobCost {
  /** Per function: invocations and GB-seconds (duration rounded up to the millisecond, as Lambda bills). */
  functions: Record<string, { requests: number; gbSeconds: number }>;
  requests: number;
  gbSeconds: number;
  estimatedUsd: number;
  prices: { source: string; usdPerGbSecond: number; usdPerRequest: number };
  /** What the figures leave out, in words. */
  excludes: string;
}

/** Sums the usage records into the job's cost. */
export function jobCost(usage: readonly InvocationUsage[]): JobCost {
  const functions: JobCost['functions'] = {};
  let requests = 0;
  let gbSeconds = 0;
  for (const u of usage) {
    const gbs = ((u.memoryMb / 1024) * Math.ceil(u.durationMs)) / 1000;
    const f = (functions[u.step] ??= { requests: 0, gbSeconds: 0 });
    f.requests++;
    f.gbSeconds += gbs;
    requests++;
    gbSeconds += gbs;
  }
  for (const f of Object.values(functions)) f.gbSeconds = round(f.gbSeconds, 3);
  const usd = gbSeconds * LAMBDA_PRICES.usdPerGbSecond + requests * LAMBDA_PRICES.usdPerRequest;
  return {
    functions,
    requests,
    gbSeconds: round(gbSeconds, 3),
    estimatedUsd: round(usd, 6),
    prices: { ...LAMBDA_PRICES },
    excludes: "the start and job functions' own invocations, durable-execution operations, S3 requests and storage, and CloudWatch",
  };
}

/** The cost in one line, as `status` prints it. */
export function costLine(c: JobCost): string {
  const per = Object.entries(c.functions)
    .map(([f, u]) => `${f} ${u.requests}× ${u.gbSeconds} GB-s`)
    .join(', ');
  return `cost: ~$${c.estimatedUsd.toFixed(6)} (${c.gbSeconds} GB-s, ${c.requests} requests: ${per}; excludes ${c.excludes})`;
}

/** A usage record's JSON, or null when it is not one. */
export function parseUsage(text: string): InvocationUsage | null {
  try {
    const u = JSON.parse(text) as Partial<InvocationUsage>;
    const ok =
      typeof u.step === 'string' &&
      typeof u.requestId === 'string' &&
      Number.isFinite(u.memoryMb) &&
      Number.isFinite(u.durationMs) &&
      (u.memoryMb as number) > 0 &&
      (u.durationMs as number) >= 0;
    return ok ? (u as InvocationUsage) : null;
  } catch {
    return null;
  }
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
