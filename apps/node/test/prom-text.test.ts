/** The strict Prometheus text parser the metrics tests rely on: it must refuse what a scraper would. */
import { describe, expect, it } from 'vitest';
import { parsePromText, valueOf } from './helpers/prom-text';

const GOOD = `# HELP a_total Things.\\nSecond line.
# TYPE a_total counter
a_total{node="n1",path="x\\"y"} 3
# TYPE g gauge
g NaN
# TYPE h histogram
h_bucket{le="0.1"} 1
h_bucket{le="1"} 2
h_bucket{le="+Inf"} 2
h_sum 0.5
h_count 2
`;

describe('prometheus text parser', () => {
  it('parses counters, gauges with NaN, escaped labels and histograms', () => {
    const f = parsePromText(GOOD);
    expect(f.get('a_total')).toMatchObject({ type: 'counter', help: 'Things.\nSecond line.' });
    expect(valueOf(f, 'a_total', { path: 'x"y' })).toBe(3);
    expect(valueOf(f, 'g')).toBeNaN();
    expect(valueOf(f, 'h_count')).toBe(2);
  });

  it.each([
    ['a sample without a TYPE', 'x 1\n'],
    ['a bad value', '# TYPE x gauge\nx one\n'],
    ['a duplicate series', '# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n'],
    ['an unquoted label', '# TYPE x gauge\nx{a=1} 1\n'],
    ['a missing final newline', '# TYPE x gauge\nx 1'],
    ['non-cumulative buckets', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['a count that differs from +Inf', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
    ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_sum 1\nh_count 2\n'],
    ['a second TYPE', '# TYPE x gauge\n# TYPE x counter\nx 1\n'],
  ])('refuses %s', (_, text) => {
    expect(() => parsePromText(text)).toThrow();
  });
});
