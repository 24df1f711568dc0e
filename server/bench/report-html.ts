/**
 * The bench datasheet as one self-contained HTML page (inline SVG, no scripts, no external requests): the
 * headline figures, end-to-end vs model-only, per-stage latency bars, the frame-age histogram and CDF, frames
 * per second over time, drops, CPU and memory, and the machine it ran on.
 */
import { STAGES } from '../stages/frame-context.ts';
import type { Summary } from '../util/stats.ts';
import type { MeanInterval } from './interval.ts';
import type { BenchRound } from './rounds.ts';
import type { BenchResult } from './run.ts';
import { formatMs } from './summary.ts';
import { at } from '../util/checked-access.ts';

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (v: number, digits = 2): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');

/** A "nice" axis maximum (1, 2, 2.5 or 5 x 10^n) at or above `v`. */
export function niceMax(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Gridline values from 0 to a niceMax() maximum, at round steps (2 -> 0.5 steps, 2.5 and 5 -> 0.5 and 1). */
function ticks(max: number): number[] {
  const lead = max / 10 ** Math.floor(Math.log10(max));
  const n = Math.abs(lead - 2) < 1e-9 ? 4 : 5;
  return Array.from({ length: n + 1 }, (_, i) => (max * i) / n);
}

const W = 760;
const COLORS = { p50: '#2f6fb0', p90: '#7fa9d6', p99: '#d9822b', e2e: '#2f6fb0', model: '#5a9e4b', peer: '#999', age: '#2f6fb0', cdf: '#d9822b', fps: '#2f6fb0' };

/** Horizontal bars: one row per label, the p50 bar with the p90 extension and a p99 tick. */
function stageBars(rows: { label: string; s: Summary }[]): string {
  const left = 190;
  const right = 70;
  const rowH = 26;
  const top = 24;
  const max = niceMax(Math.max(...rows.map((r) => r.s.p99).filter(Number.isFinite), 1));
  const x = (v: number) => left + ((W - left - right) * Math.min(v, max)) / max;
  const h = top + rows.length * rowH + 30;
  const grid = ticks(max)
    .map((t) => `<line x1="${x(t)}" y1="${top - 6}" x2="${x(t)}" y2="${top + rows.length * rowH}" class="grid"/><text x="${x(t)}" y="${top + rows.length * rowH + 16}" class="tick" text-anchor="middle">${num(t, t < 10 ? 1 : 0)}</text>`)
    .join('');
  const bars = rows
    .map((r, i) => {
      const y = top + i * rowH;
      return (
        `<g class="stage" data-stage="${esc(r.label)}"><text x="${left - 8}" y="${y + 16}" text-anchor="end">${esc(r.label)}</text>` +
        `<rect x="${left}" y="${y + 5}" width="${Math.max(0, x(r.s.p90) - left)}" height="14" fill="${COLORS.p90}"><title>p90 ${formatMs(r.s.p90)} ms</title></rect>` +
        `<rect x="${left}" y="${y + 5}" width="${Math.max(0, x(r.s.p50) - left)}" height="14" fill="${COLORS.p50}"><title>p50 ${formatMs(r.s.p50)} ms</title></rect>` +
        `<line x1="${x(r.s.p99)}" y1="${y + 2}" x2="${x(r.s.p99)}" y2="${y + 22}" stroke="${COLORS.p99}" stroke-width="2"><title>p99 ${formatMs(r.s.p99)} ms</title></line>` +
        `<text x="${W - right + 6}" y="${y + 16}" class="val">${formatMs(r.s.p50)} ms</text></g>`
      );
    })
    .join('');
  return `<svg viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="per-stage latency">${grid}${bars}<text x="${left}" y="12" class="tick">ms: bar = p50, light = p90, orange tick = p99</text></svg>`;
}

/** Vertical bars with value labels (fps of end-to-end, model-only and peers). */
function fpsBars(bars: { label: string; value: number; color: string }[]): string {
  const left = 48;
  const top = 16;
  const plotH = 180;
  const slot = (W - left - 20) / bars.length;
  const max = niceMax(Math.max(...bars.map((b) => b.value).filter(Number.isFinite), 1));
  const y = (v: number) => top + plotH - (plotH * Math.min(v, max)) / max;
  const grid = ticks(max)
    .map((t) => `<line x1="${left}" y1="${y(t)}" x2="${W - 10}" y2="${y(t)}" class="grid"/><text x="${left - 6}" y="${y(t) + 4}" class="tick" text-anchor="end">${num(t, 1)}</text>`)
    .join('');
  const body = bars
    .map((b, i) => {
      const bw = Math.min(120, slot * 0.6);
      const cx = left + slot * (i + 0.5);
      return (
        `<g class="fps-bar" data-label="${esc(b.label)}"><rect x="${cx - bw / 2}" y="${y(b.value)}" width="${bw}" height="${top + plotH - y(b.value)}" fill="${b.color}"/>` +
        `<text x="${cx}" y="${y(b.value) - 6}" text-anchor="middle" class="val">${num(b.value)} fps</text>` +
        `<text x="${cx}" y="${top + plotH + 18}" text-anchor="middle">${esc(b.label)}</text></g>`
      );
    })
    .join('');
  const h = top + plotH + 30;
  return `<svg viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="frames per second">${grid}${body}</svg>`;
}

/** Histogram counts of `values` over `bins` equal bins from 0 to `max`. */
export function histogram(values: number[], max: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    const bin = Math.min(bins - 1, Math.max(0, Math.floor((v / max) * bins)));
    counts[bin] = at(counts, bin, 'histogram bins') + 1;
  }
  return counts;
}

function ageCharts(ages: number[]): string {
  if (ages.length === 0) return '<p class="note">No frame was acknowledged by a viewer, so there is no frame age.</p>';
  const sorted = [...ages].sort((a, b) => a - b);
  const max = niceMax(at(sorted, sorted.length - 1, 'frame ages'));
  const bins = 30;
  const counts = histogram(sorted, max, bins);
  const peak = Math.max(...counts);
  const left = 48;
  const top = 16;
  const plotW = (W - left - 40) / 2 - 40;
  const plotH = 170;
  const xs = (v: number, ox: number) => ox + (plotW * v) / max;
  const axis = (ox: number) =>
    ticks(max)
      .map((t) => `<text x="${xs(t, ox)}" y="${top + plotH + 16}" class="tick" text-anchor="middle">${num(t, 0)}</text>`)
      .join('') + `<line x1="${ox}" y1="${top + plotH}" x2="${ox + plotW}" y2="${top + plotH}" class="grid"/>`;
  const hist = counts
    .map((c, i) => {
      const bh = peak > 0 ? (plotH * c) / peak : 0;
      return `<rect class="age-bin" x="${left + (plotW * i) / bins}" y="${top + plotH - bh}" width="${Math.max(0.5, plotW / bins - 1)}" height="${bh}" fill="${COLORS.age}"><title>${num((max * i) / bins, 0)}-${num((max * (i + 1)) / bins, 0)} ms: ${c} frames</title></rect>`;
    })
    .join('');
  const ox2 = left + plotW + 60;
  const points = sorted.map((v, i) => `${xs(v, ox2).toFixed(1)},${(top + plotH - (plotH * (i + 1)) / sorted.length).toFixed(1)}`).join(' ');
  const cdfGrid = [0, 0.25, 0.5, 0.75, 0.9, 1]
    .map((q) => `<line x1="${ox2}" y1="${top + plotH - plotH * q}" x2="${ox2 + plotW}" y2="${top + plotH - plotH * q}" class="grid"/><text x="${ox2 - 6}" y="${top + plotH - plotH * q + 4}" class="tick" text-anchor="end">${q}</text>`)
    .join('');
  const h = top + plotH + 40;
  return (
    `<svg viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="frame age histogram and CDF">` +
    `<text x="${left}" y="10" class="tick">histogram (frames per bin), ms</text>${hist}${axis(left)}` +
    `<text x="${ox2}" y="10" class="tick">cumulative share of frames, ms</text>${cdfGrid}<polyline class="cdf" points="${points}" fill="none" stroke="${COLORS.cdf}" stroke-width="2"/>${axis(ox2)}</svg>`
  );
}

/** Frames finished in each whole second of the measurement. */
export function fpsPerSecond(doneS: number[]): number[] {
  if (doneS.length === 0) return [];
  const last = Math.max(...doneS);
  const counts = new Array<number>(Math.max(1, Math.ceil(last))).fill(0);
  for (const t of doneS) {
    const second = Math.min(counts.length - 1, Math.max(0, Math.floor(t)));
    counts[second] = at(counts, second, 'frames per second') + 1;
  }
  return counts;
}

function fpsOverTime(doneS: number[], meanFps: number): string {
  const perSecond = fpsPerSecond(doneS);
  if (perSecond.length < 2) return '<p class="note">The run was shorter than two seconds: no time series.</p>';
  const left = 48;
  const top = 16;
  const plotW = W - left - 20;
  const plotH = 160;
  const max = niceMax(Math.max(...perSecond, meanFps));
  const x = (i: number) => left + (plotW * (i + 0.5)) / perSecond.length;
  const y = (v: number) => top + plotH - (plotH * v) / max;
  const grid = ticks(max)
    .map((t) => `<line x1="${left}" y1="${y(t)}" x2="${left + plotW}" y2="${y(t)}" class="grid"/><text x="${left - 6}" y="${y(t) + 4}" class="tick" text-anchor="end">${num(t, 1)}</text>`)
    .join('');
  const line = perSecond.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const step = Math.max(1, Math.ceil(perSecond.length / 10));
  const labels = perSecond
    .map((_, i) => (i % step === 0 ? `<text x="${x(i)}" y="${top + plotH + 16}" class="tick" text-anchor="middle">${i}</text>` : ''))
    .join('');
  const mean = `<line x1="${left}" y1="${y(meanFps)}" x2="${left + plotW}" y2="${y(meanFps)}" stroke="${COLORS.cdf}" stroke-dasharray="4 3"><title>mean ${num(meanFps)} fps</title></line>`;
  const h = top + plotH + 36;
  return `<svg viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="frames per second over time">${grid}${mean}<polyline class="fps-line" points="${line}" fill="none" stroke="${COLORS.fps}" stroke-width="2"/>${labels}<text x="${left + plotW / 2}" y="${h - 2}" class="tick" text-anchor="middle">seconds into the measurement (dashed: mean ${num(meanFps)} fps)</text></svg>`;
}

/**
 * Axis for values near each other (ratios): the range of `values` padded by a tenth (at least 0.05 each side),
 * never below 0, with ends and gridlines on a round step (1, 2, 2.5 or 5 x 10^n) giving about five intervals.
 */
export function ratioAxis(values: number[]): { min: number; max: number; step: number } {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { min: 0, max: 1, step: 0.2 };
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const pad = Math.max((hi - lo) / 10, 0.05);
  const from = Math.max(0, lo - pad);
  const to = hi + pad;
  const step = niceMax((to - from) / 5);
  const round = (v: number) => Math.round(v * 1e9) / 1e9;
  return { min: round(Math.floor(round(from / step)) * step), max: round(Math.ceil(round(to / step)) * step), step };
}

/**
 * One value per round as a point (filled: pipeline segment first; hollow: model-only first), the mean as a dashed
 * line, its 95% interval as a band, and an optional reference line (1.0 = the model's own rate).
 */
function roundChart(rounds: BenchRound[], value: (r: BenchRound) => number | null, interval: MeanInterval, o: { label: string; reference?: { at: number; text: string }; kind: string }): string {
  const left = 56;
  const top = 16;
  const plotW = W - left - 150;
  const plotH = 170;
  const values = rounds.map(value);
  const axis = ratioAxis([...values.filter((v): v is number => v !== null), interval.mean, interval.low ?? NaN, interval.high ?? NaN, o.reference?.at ?? NaN]);
  // Clamped to the plot: an interval reaching below 0 (a wide one from very few rounds) ends at the axis.
  const y = (v: number) => top + plotH - (plotH * (Math.min(axis.max, Math.max(axis.min, v)) - axis.min)) / (axis.max - axis.min);
  const x = (i: number) => left + (plotW * (i + 0.5)) / rounds.length;
  const steps = Math.round((axis.max - axis.min) / axis.step);
  const grid = Array.from({ length: steps + 1 }, (_, k) => axis.min + k * axis.step)
    .map((t) => `<line x1="${left}" y1="${y(t)}" x2="${left + plotW}" y2="${y(t)}" class="grid"/><text x="${left - 6}" y="${y(t) + 4}" class="tick" text-anchor="end">${num(t)}</text>`)
    .join('');
  const band =
    interval.low !== null && interval.high !== null
      ? `<rect class="ci-band" x="${left}" y="${y(interval.high)}" width="${plotW}" height="${Math.max(1, y(interval.low) - y(interval.high))}" fill="#2f6fb0" fill-opacity="0.12"><title>95% interval ${num(interval.low, 3)} to ${num(interval.high, 3)}</title></rect>` +
        `<text x="${left + plotW + 8}" y="${y(interval.high) + 4}" class="tick">95% CI high ${num(interval.high, 3)}</text><text x="${left + plotW + 8}" y="${y(interval.low) + 4}" class="tick">95% CI low ${num(interval.low, 3)}</text>`
      : '';
  const mean = `<line class="mean" x1="${left}" y1="${y(interval.mean)}" x2="${left + plotW}" y2="${y(interval.mean)}" stroke="${COLORS.p50}" stroke-dasharray="5 3" stroke-width="1.5"/><text x="${left + plotW + 8}" y="${y(interval.mean) + 4}" class="val">mean ${num(interval.mean, 3)}</text>`;
  const ref = o.reference
    ? `<line class="reference" x1="${left}" y1="${y(o.reference.at)}" x2="${left + plotW}" y2="${y(o.reference.at)}" stroke="${COLORS.model}" stroke-width="1.5"/><text x="${left + 4}" y="${y(o.reference.at) - 4}" class="tick">${esc(o.reference.text)}</text>`
    : '';
  const points = rounds
    .map((r, i) => {
      const v = value(r);
      const label = `<text x="${x(i)}" y="${top + plotH + 16}" class="tick" text-anchor="middle">${r.round}</text>`;
      if (v === null || !Number.isFinite(v)) return label;
      const filled = r.first === 'pipeline';
      return `${label}<circle class="round-point ${esc(o.kind)}" data-round="${r.round}" cx="${x(i)}" cy="${y(v)}" r="5" fill="${filled ? COLORS.e2e : '#fff'}" stroke="${COLORS.e2e}" stroke-width="2"><title>round ${r.round} (${esc(r.first)} first): ${num(v, 3)}</title></circle>`;
    })
    .join('');
  const h = top + plotH + 36;
  return (
    `<svg viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="${esc(o.label)} per round">${grid}${band}${ref}${mean}${points}` +
    `<text x="${left + plotW / 2}" y="${h - 2}" class="tick" text-anchor="middle">round (filled: pipeline segment first; hollow: model-only first)</text></svg>`
  );
}

function roundsSection(r: BenchResult): string {
  const i = r.interleaved;
  if (!i || !Array.isArray(i.rounds) || i.rounds.length === 0) return '<p class="note">This run has no interleaved rounds (it was made before the bench interleaved them).</p>';
  const interval = (m: MeanInterval, d = 3) => (m.low === null || m.high === null ? `${num(m.mean, d)} (one round: no interval)` : `${num(m.mean, d)}, 95% interval ${num(m.low, d)} to ${num(m.high, d)}`);
  const rows = i.rounds
    .map(
      (x) =>
        `<tr class="round-row"><td>${x.round}</td><td>${esc(x.first)}</td><td>${num(x.pipeline.fps)}</td><td>${num(x.modelOnly.fps)}</td><td><b>${num(x.e2eVsModelOnly, 3)}</b></td>` +
        `<td>${x.pipeline.frameAgeP99Ms === null ? '-' : formatMs(x.pipeline.frameAgeP99Ms)}</td><td>${formatMs(x.modelOnly.p50Ms)}</td><td>${x.frameAgeP99VsModelP50 === null ? '-' : num(x.frameAgeP99VsModelP50)}</td>` +
        `<td>${x.pipeline.rss ? num(x.pipeline.rss.medianMiB, 0) : '-'}</td></tr>`,
    )
    .join('');
  return (
    `<p class="note">${i.rounds.length} rounds, each a pipeline segment (a fresh server: ${r.pipeline.warmupFrames} warm-up frames, then the measured frames) and a model-only segment ` +
    `(${i.modelOnlyWarmupRuns} untimed run, then the timed runs, in a separate process that keeps the model loaded), the order alternating so a steady drift of the machine's speed favours neither side. ` +
    `Each round gives its own ratio; the interval is Student's t over the rounds (mean &plusmn; t<sub>0.975, n-1</sub> &middot; sd / &radic;n).</p>` +
    `<p><b>End-to-end / model-only per round</b>: ${esc(interval(i.e2eVsModelOnly))} (all rounds pooled: ${num(r.endToEndVsModelOnly, 3)})</p>` +
    roundChart(i.rounds, (x) => x.e2eVsModelOnly, i.e2eVsModelOnly, { label: 'end-to-end / model-only', reference: { at: 1, text: '1.0 = the model alone' }, kind: 'e2e-ratio' }) +
    (i.frameAgeP99VsModelP50
      ? `<p><b>Frame age p99 / model-only p50 per round</b>: ${esc(interval(i.frameAgeP99VsModelP50, 2))} (pooled: ${r.frameAgeP99VsModel === null ? '-' : num(r.frameAgeP99VsModel)})</p>` +
        roundChart(i.rounds, (x) => x.frameAgeP99VsModelP50, i.frameAgeP99VsModelP50, { label: 'frame age p99 / model p50', reference: { at: 1, text: '1.0 = one model run' }, kind: 'age-ratio' })
      : '') +
    `<table class="rounds"><tr><th>round</th><th>first</th><th>end-to-end fps</th><th>model-only fps</th><th>ratio</th><th>frame age p99 ms</th><th>model p50 ms</th><th>age p99 / model p50</th><th>RSS median MiB</th></tr>${rows}</table>`
  );
}

function table(rows: [string, string][]): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

export function benchReportHtml(r: BenchResult): string {
  const p = r.pipeline;
  const o = r.options;
  const warning = r.model.runtime.includes('test double')
    ? 'NOT A BOARD: these BPU timings are the test double\'s, not the BPU\'s.'
    : r.model.untrainedDemo
      ? 'Untrained demo model: its speed is real, its masks are meaningless.'
      : '';
  const stageRows: { label: string; s: Summary }[] = STAGES.flatMap((stage) => {
    const s = p.stages[stage];
    return s ? [{ label: stage, s }] : [];
  });
  stageRows.push({ label: 'frame (arrival -> encoded)', s: p.total });
  if (r.frameAge) stageRows.push({ label: 'frame age', s: r.frameAge });
  const fps = [
    { label: 'end-to-end', value: p.fps, color: COLORS.e2e },
    { label: 'model only', value: r.modelOnly.fps, color: COLORS.model },
    ...r.peers.map((peer) => ({ label: peer.name, value: peer.fps, color: COLORS.peer })),
  ];
  const source = `${o.source}${o.file ? ` ${o.file}` : o.device ? ` ${o.device}` : o.url ? ` ${o.url}` : ''} ${o.width}x${o.height} @ ${o.sourceFps || 'max'} fps`;
  const figures: [string, string][] = [
    ['end-to-end', `${num(p.fps)} fps`],
    ['model only', `${num(r.modelOnly.fps)} fps`],
    r.interleaved?.e2eVsModelOnly
      ? [
          'end-to-end / model only, per-round mean (95% CI)',
          r.interleaved.e2eVsModelOnly.low === null ? num(r.interleaved.e2eVsModelOnly.mean, 3) : `${num(r.interleaved.e2eVsModelOnly.mean, 3)} [${num(r.interleaved.e2eVsModelOnly.low, 2)}, ${num(r.interleaved.e2eVsModelOnly.high ?? NaN, 2)}]`,
        ]
      : ['end-to-end / model only', `${num(r.endToEndVsModelOnly * 100, 1)} %`],
    ['frame age p50 / p99', r.frameAge ? `${formatMs(r.frameAge.p50)} / ${formatMs(r.frameAge.p99)} ms` : '-'],
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>segstream bench: ${esc(r.model.name)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;color:#1d2328;margin:24px auto;max-width:${W + 40}px;padding:0 20px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #dde2e6;padding-bottom:4px}
.sub{color:#5b6670;margin:0 0 12px}.warn{background:#fff4e0;border:1px solid #e8b04c;padding:8px 12px;border-radius:4px}
.figures{display:grid;grid-template-columns:repeat(4,1fr);gap:10px;margin:16px 0}.figure{background:#f3f6f8;border-radius:6px;padding:10px 12px}
.figure b{display:block;font-size:22px}.figure span{color:#5b6670;font-size:12px}
table{border-collapse:collapse;width:100%}table.rounds{margin-top:10px;font-size:13px}table.rounds th{width:auto}th{text-align:left;font-weight:600;width:34%;color:#3c4650}th,td{padding:4px 8px;border-bottom:1px solid #eceff2;vertical-align:top}
svg text{font:12px system-ui,sans-serif;fill:#1d2328}svg .tick{fill:#5b6670;font-size:11px}svg .val{font-weight:600}svg .grid{stroke:#e3e7ea;stroke-width:1}
.note{color:#5b6670}.cols{display:grid;grid-template-columns:1fr 1fr;gap:16px}
</style></head><body>
<h1>segstream bench: <span id="model-name">${esc(r.model.name)}</span></h1>
<p class="sub">${esc(r.startedAt)} &middot; ${esc(r.model.input)} on ${esc(r.model.runtime)} &middot; source ${esc(source)}</p>
${warning ? `<p class="warn">${esc(warning)}</p>` : ''}
<div class="figures">${figures.map(([k, v]) => `<div class="figure"><b>${esc(v)}</b><span>${esc(k)}</span></div>`).join('')}</div>
<h2>Model only vs end-to-end</h2>
<p class="note">The same model and thread count on a fixed input with nothing else running (model only), and the whole chain: source, preprocess, infer, postprocess, overlay, encode, send; each pooled over the rounds below.</p>
${fpsBars(fps)}
<h2>Interleaved rounds</h2>
${roundsSection(r)}
<h2>Latency per stage</h2>
<p class="note">${p.frames} measured frames after ${p.warmupFrames} warm-up frames; the named stages explain ${num(p.stageSumRatio * 100, 1)} % of the measured frame time (the rest is hand-off between threads).</p>
${stageBars(stageRows)}
<h2>Frame age</h2>
<p class="note">Capture to ${esc(r.frameAge?.client ?? 'viewer')}${r.frameAge ? `: p50 ${formatMs(r.frameAge.p50)} ms, p90 ${formatMs(r.frameAge.p90)} ms, p99 ${formatMs(r.frameAge.p99)} ms over ${r.frameAge.count} frames` : ''}.</p>
${ageCharts(r.series?.frameAgeMs ?? [])}
<h2>Frames per second over time</h2>
${fpsOverTime(r.series?.frameDoneS ?? [], p.fps)}
${r.series?.roundStartS && r.series.roundStartS.length > 1 ? `<p class="note">The rounds' measured windows laid end to end (model-only segments, server restarts and warm-ups cut out); round ${r.series.roundStartS.map((t, k) => `${k + 1} starts at ${num(t, 1)} s`).join(', ')}.</p>` : ''}
<h2>Drops, CPU and memory</h2>
${table([
  ['frames captured', String(p.dropped.captured)],
  ['replaced while the model was busy', `${p.dropped.inferenceBusy} (latest frame wins)`],
  ['dropped while rendering was busy', String(p.dropped.renderBusy)],
  ['not sent to a slow client', String(p.dropped.slowClient)],
  ['errors', String(p.dropped.errors)],
  ['server CPU', `${num(r.cpu.serverCores)} cores; ${num(r.cpu.nonModelShare * 100, 1)} % of it outside the model`],
  ...(r.cpu.browserCores !== null ? [['browser CPU', `${num(r.cpu.browserCores)} cores`] as [string, string]] : []),
  ['memory (RSS)', `${num(r.memory.rssStartMiB, 0)} MiB at the start, peak ${num(r.memory.rssPeakMiB, 0)}, end ${num(r.memory.rssEndMiB, 0)} MiB`],
  ...(r.memory.rss
    ? [[
        'RSS over the measured windows',
        `min ${num(r.memory.rss.minMiB, 0)}, median ${num(r.memory.rss.medianMiB, 0)}, max ${num(r.memory.rss.maxMiB, 0)} MiB (${r.memory.rss.samples} readings after warm-up); ONNX Runtime memory arena ${r.memory.memoryArena ? 'on' : 'off'}`,
      ] as [string, string]]
    : []),
  ...(r.modelOnly.rssMiB !== undefined ? [['model-only process RSS', `${num(r.modelOnly.rssMiB, 0)} MiB (Node, the runtime and the model, no pipeline)`] as [string, string]] : []),
])}
<h2>Machine</h2>
${table([
  ['CPU', `${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.arch}`],
  ['memory', `${r.machine.memGiB} GiB`],
  ['OS', r.machine.os],
  ['Node.js', r.machine.node],
  ['ONNX Runtime (onnxruntime-node)', r.machine.onnxruntime],
  ['GStreamer', r.machine.gstreamer],
  ['segstream', r.machine.segstream],
])}
<h2>Run</h2>
${table([
  ['model', `${r.model.name} (${r.model.path})`],
  ['backend', r.model.backend],
  ['source', source],
  ['caps', r.source.caps || '-'],
  ['post-processing', o.postprocess],
  ['overlay', o.overlay ? 'server (blended into the JPEG)' : 'client (the viewer blends the class map)'],
  ['JPEG quality', String(o.jpegQuality)],
  ['threads', o.threads ? String(o.threads) : 'runtime default'],
  ['model-only runs', `${r.modelOnly.runs} (p50 ${formatMs(r.modelOnly.ms.p50)} ms, p99 ${formatMs(r.modelOnly.ms.p99)} ms)`],
  ['rounds', r.interleaved?.rounds ? `${r.interleaved.rounds.length}${r.interleaved.automatic ? ' (the default for these totals)' : ' (--rounds)'}, order alternating` : '-'],
])}
</body></html>
`;
}
