/**
 * Prometheus text exposition (format 0.0.4) for the few series segstream exports: counters, gauges and
 * cumulative histograms. Small enough that a client library would be the larger part.
 */
import { at } from './checked-access.ts';

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export class Histogram {
  private readonly counts = new Map<string, { labels: Labels; buckets: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    const key = labelText(labels);
    let s = this.counts.get(key);
    if (!s) {
      s = { labels, buckets: new Array(this.bounds.length).fill(0), sum: 0, count: 0 };
      this.counts.set(key, s);
    }
    const { buckets } = s;
    this.bounds.forEach((bound, i) => {
      if (value <= bound) buckets[i] = at(buckets, i, 'histogram buckets') + 1;
    });
    s.sum += value;
    s.count++;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.counts.values()) {
      this.bounds.forEach((b, i) => lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: num(b) })} ${s.buckets[i]}`));
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines.join('\n');
  }
}

/** A counter or gauge whose value is read when scraped. */
export interface Sampled {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  read: () => number | { labels: Labels; value: number }[];
}

export function renderMetrics(sampled: Sampled[], histograms: Histogram[]): string {
  const out: string[] = [];
  for (const m of sampled) {
    out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
    const v = m.read();
    if (typeof v === 'number') out.push(`${m.name} ${num(v)}`);
    else for (const s of v) out.push(`${m.name}${labelText(s.labels)} ${num(s.value)}`);
  }
  for (const h of histograms) out.push(h.render());
  return `${out.join('\n')}\n`;
}

/** Parses exposition text back into samples (used by tests and by `bench` when it scrapes a server). */
export function parseMetrics(text: string): { name: string; labels: Labels; value: number }[] {
  const samples: { name: string; labels: Labels; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`metrics: cannot parse line ${JSON.stringify(line)}`);
    const labels: Labels = {};
    if (m[3]) {
      for (const [, key, value] of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        if (key === undefined || value === undefined) continue; // both groups are required: never taken
        labels[key] = value.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      }
    }
    const [, name, , , raw] = m;
    if (name === undefined || raw === undefined) throw new Error(`metrics: cannot parse line ${JSON.stringify(line)}`);
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`metrics: bad value in line ${JSON.stringify(line)}`);
    samples.push({ name, labels, value });
  }
  return samples;
}
