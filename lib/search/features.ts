/**
 * A track that is not in the table, embedded from its features with a fitted scaler (the
 * manifest's), as the table's own rows were: the same spec, means, scales, weights and kernel.
 */
import { compileSpec, embedRows } from '../embedding/kernel.ts';
import { firstInfinite, infiniteProblem } from '../embedding/finite.ts';
import type { FeatureSpec } from '../embedding/spec.ts';
import type { Scaler } from '../embedding/stats.ts';
import { SpecError } from '../errors.ts';

/**
 * The embedding of one track given as `{column: value}` (numbers or booleans; null for a missing
 * value). `label` names the features where a refusal is shown (the option, or the request field).
 * A value that embeds beyond float32's range (1e300) is refused: an infinite dimension would put
 * every row at an infinite distance.
 */
export function embedFeatures(features: Record<string, unknown>, spec: FeatureSpec, scaler: Scaler, label = '--features'): Float64Array {
  const compiled = compileSpec(spec, scaler);
  const missing = compiled.filter((f) => !Object.hasOwn(features, f.column)).map((f) => f.column);
  if (missing.length > 0)
    throw new SpecError(`${label}: missing ${missing.join(', ')} (the spec needs ${compiled.map((f) => f.column).join(', ')})`);
  const columns = compiled.map((f) => {
    const v = features[f.column];
    if (v === null) return Float64Array.of(NaN);
    if (typeof v === 'boolean') return Float64Array.of(v ? 1 : 0);
    if (typeof v !== 'number' || !Number.isFinite(v))
      // JSON has no Infinity: 1e400 parses to it, and JSON.stringify would show it as null.
      throw new SpecError(
        `${label}: '${f.column}' must be a finite number, a boolean or null, got ${typeof v === 'number' ? `${v} (beyond float64's range)` : JSON.stringify(v)}`,
      );
    return Float64Array.of(v);
  });
  const out = new Float32Array(compiled.length);
  embedRows(compiled, columns, 1, out);
  const bad = firstInfinite(compiled, out, 1);
  if (bad) {
    const f = compiled[bad.dim]!;
    throw new SpecError(`${label}: '${f.column}' ${infiniteProblem(f, columns[bad.dim]![0]!)}`);
  }
  return Float64Array.from(out);
}
