import { describe, expect, it } from 'vitest';
import { formatEta, progressLine } from '../../lib/cli/progress.ts';

describe('progress bars', () => {
  it('show done of total, the rate and the time left at that rate', () => {
    expect(progressLine('embed', 25_000, 100_000, 2)).toBe(
      `embed  ${'█'.repeat(8)}${'░'.repeat(22)}  25%  25,000/100,000 rows  12,500 rows/s  ETA 6s`,
    );
    expect(progressLine('shards', 3, 3, 1, 'shards')).toMatch(/100% {2}3\/3 shards {2}3 shards\/s {2}done$/);
    expect(progressLine('stats', 0, 10, 0)).toMatch(/ETA --$/);
  });

  it('writes the time left as seconds, minutes or hours', () => {
    expect([formatEta(9.4), formatEta(125), formatEta(3 * 3600 + 120), formatEta(Infinity)]).toEqual(['9s', '2m05s', '3h02m', '--']);
  });
});
