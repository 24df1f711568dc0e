/**
 * Small inline SVG charts for the self-contained quantize report (no scripts, nothing fetched): a
 * horizontal bar chart and a step line chart with a target line. Text is escaped; sizes are fixed.
 */
import { escapeHtml } from '../report/report-html.ts';

export interface Bar {
  label: string;
  value: number;
  colour: string;
  /** Shown after the bar (default the value with 4 digits). */
  text?: string;
}

export function barChart(bars: readonly Bar[], o: { title: string; max?: number; width?: number }): string {
  const width = o.width ?? 760;
  const labelW = 330;
  const row = 16;
  const chartW = width - labelW - 140;
  const max = o.max ?? Math.max(1e-12, ...bars.map((b) => b.value));
  const h = bars.length * row + 8;
  const rows = bars
    .map((b, i) => {
      const y = i * row + 4;
      const w = Math.max(0, Math.min(1, b.value / max)) * chartW;
      const label = b.label.length > 52 ? `...${b.label.slice(-49)}` : b.label;
      return `<text x="${labelW - 6}" y="${y + 11}" text-anchor="end">${escapeHtml(label)}</text><rect x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${row - 4}" fill="${b.colour}"/><text x="${(labelW + w + 4).toFixed(1)}" y="${y + 11}">${escapeHtml(b.text ?? b.value.toPrecision(4))}</text>`;
    })
    .join('');
  return `<figure class="chart"><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" font-size="11" font-family="system-ui, sans-serif" role="img" aria-label="${escapeHtml(o.title)}">${rows}</svg><figcaption>${escapeHtml(o.title)}</figcaption></figure>`;
}

export interface LinePoint {
  x: number;
  y: number;
  label?: string;
  pass?: boolean;
}

/** y in 0..1 (agreement), plotted as percent; points joined in order; a dashed target line. */
export function stepChart(points: readonly LinePoint[], o: { title: string; target?: number; xLabel: string; yMin?: number }): string {
  const width = 760;
  const height = 260;
  const left = 56;
  const bottom = 36;
  const top = 12;
  const right = 16;
  const xs = points.map((p) => p.x);
  const xMax = Math.max(1, ...xs);
  const yMin = o.yMin ?? Math.max(0, Math.min(...points.map((p) => p.y), o.target ?? 1) - 0.01);
  const yMax = 1;
  const px = (x: number) => left + (x / xMax) * (width - left - right);
  const py = (y: number) => top + (1 - (y - yMin) / Math.max(1e-9, yMax - yMin)) * (height - top - bottom);
  const ticks = 5;
  let axes = `<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="#888"/><line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="#888"/>`;
  for (let i = 0; i <= ticks; i++) {
    const y = yMin + ((yMax - yMin) * i) / ticks;
    axes += `<text x="${left - 4}" y="${py(y) + 4}" text-anchor="end">${(y * 100).toFixed(1)}%</text><line x1="${left}" x2="${width - right}" y1="${py(y)}" y2="${py(y)}" stroke="#eee"/>`;
  }
  axes += `<text x="${(left + width - right) / 2}" y="${height - 6}" text-anchor="middle">${escapeHtml(o.xLabel)}</text>`;
  const target = o.target !== undefined ? `<line x1="${left}" x2="${width - right}" y1="${py(o.target)}" y2="${py(o.target)}" stroke="#c62828" stroke-dasharray="5,4"/><text x="${width - right}" y="${py(o.target) - 4}" text-anchor="end" fill="#c62828">target ${(o.target * 100).toFixed(2)}%</text>` : '';
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${px(p.x).toFixed(1)},${py(Math.max(yMin, p.y)).toFixed(1)}`).join(' ');
  const dots = points
    .map((p) => `<circle cx="${px(p.x).toFixed(1)}" cy="${py(Math.max(yMin, p.y)).toFixed(1)}" r="3.5" fill="${p.pass ? '#2e7d32' : '#c62828'}"><title>${escapeHtml(p.label ?? '')}: ${(p.y * 100).toFixed(2)}%</title></circle>`)
    .join('');
  return `<figure class="chart"><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-size="11" font-family="system-ui, sans-serif" role="img" aria-label="${escapeHtml(o.title)}">${axes}${target}<path d="${path}" fill="none" stroke="#1565c0" stroke-width="1.5"/>${dots}</svg><figcaption>${escapeHtml(o.title)}</figcaption></figure>`;
}

export const KIND_COLOURS: Record<string, string> = {
  layernorm: '#1565c0',
  gelu: '#6a1b9a',
  softmax: '#c62828',
  'attention-matmul': '#ef6c00',
  projection: '#2e7d32',
  conv: '#00838f',
  'residual-add': '#827717',
  elementwise: '#757575',
};
