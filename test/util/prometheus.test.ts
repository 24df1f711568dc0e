import { describe, expect, it } from 'vitest';
import { Histogram, parseMetrics, renderMetrics } from '../../server/util/prometheus.ts';

describe('Prometheus exposition', () => {
  it('renders counters, labelled gauges and cumulative histograms that parse back', () => {
    const h = new Histogram('x_ms', 'stage time', [1, 10, 100]);
    for (const v of [0.5, 5, 5, 50, 500]) h.observe(v, { stage: 'infer' });
    h.observe(2, { stage: 'encode' });
    const text = renderMetrics(
      [
        { name: 'frames_total', help: 'frames', type: 'counter', read: () => 42 },
        { name: 'fps', help: 'rate', type: 'gauge', read: () => [{ labels: { stage: 'a"b\\c' }, value: 9.5 }] },
      ],
      [h],
    );
    expect(text).toContain('# TYPE frames_total counter\nframes_total 42\n');
    expect(text).toContain('# TYPE x_ms histogram');
    const samples = parseMetrics(text);
    const get = (name: string, labels: Record<string, string>) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(get('frames_total', {})).toBe(42);
    expect(get('fps', { stage: 'a"b\\c' })).toBe(9.5);
    expect(get('x_ms_bucket', { stage: 'infer', le: '1' })).toBe(1);
    expect(get('x_ms_bucket', { stage: 'infer', le: '10' })).toBe(3);
    expect(get('x_ms_bucket', { stage: 'infer', le: '100' })).toBe(4);
    expect(get('x_ms_bucket', { stage: 'infer', le: '+Inf' })).toBe(5);
    expect(get('x_ms_count', { stage: 'infer' })).toBe(5);
    expect(get('x_ms_sum', { stage: 'infer' })).toBe(560.5);
    expect(get('x_ms_count', { stage: 'encode' })).toBe(1);
  });

  it('refuses lines that are not exposition format', () => {
    expect(() => parseMetrics('this is not metrics')).toThrow(/cannot parse line/);
  });
});
