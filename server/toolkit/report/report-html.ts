/**
 * The verify report as one self-contained HTML file: images inline as PNG data URIs, CSS inline, no
 * scripts and nothing fetched from anywhere, so it opens offline and can be attached to an issue.
 */
import sharp from 'sharp';
import type { Finding } from './findings.ts';

export interface HtmlMetricRow {
  label: string;
  value: string;
  /** undefined: no threshold applies. */
  pass?: boolean;
}

export interface HtmlClassRow {
  name: string;
  color: [number, number, number];
  iou: number;
  referencePixels: number;
  deployedPixels: number;
}

export interface HtmlImageCard {
  name: string;
  width: number;
  height: number;
  failed: boolean;
  metrics: HtmlMetricRow[];
  images: { reference: string; deployed: string; diff: string };
  classes: HtmlClassRow[];
  findings: Finding[];
}

export interface HtmlReport {
  title: string;
  generatedAt: string;
  reference: string;
  deployed: string;
  deployedPath: string;
  verdict: 'pass' | 'fail';
  overall: HtmlMetricRow[];
  findings: Finding[];
  cards: HtmlImageCard[];
  notes: string[];
  /** Page heading (default `segstream verify`). */
  heading?: string;
  /** Extra sections after the overall table: trusted HTML made by segstream (charts, tables). */
  sections?: { title: string; html: string }[];
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

export async function pngDataUri(rgb: Uint8Array, width: number, height: number): Promise<string> {
  const png = await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } }).png({ compressionLevel: 8 }).toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** Black -> red -> yellow -> white colour ramp for a value in 0..1. */
export function heatColour(t: number): [number, number, number] {
  const x = Math.max(0, Math.min(1, t));
  const r = Math.min(1, x * 3);
  const g = Math.min(1, Math.max(0, x * 3 - 1));
  const b = Math.min(1, Math.max(0, x * 3 - 2));
  return [Math.round(r * 255), Math.round(g * 255), Math.round(b * 255)];
}

function metricTable(rows: HtmlMetricRow[]): string {
  return `<table class="metrics">${rows
    .map((r) => `<tr class="${r.pass === undefined ? '' : r.pass ? 'ok' : 'bad'}"><th>${escapeHtml(r.label)}</th><td>${escapeHtml(r.value)}</td><td class="mark">${r.pass === undefined ? '' : r.pass ? 'pass' : 'FAIL'}</td></tr>`)
    .join('')}</table>`;
}

function findingList(findings: Finding[]): string {
  if (findings.length === 0) return '';
  return `<ul class="findings">${findings
    .map((f) => `<li class="${f.severity}"><b>${escapeHtml(f.severity)}</b> <code>${escapeHtml(f.code)}</code> ${escapeHtml(f.message)}${f.fix ? `<br><span class="fix">fix: ${escapeHtml(f.fix)}</span>` : ''}</li>`)
    .join('')}</ul>`;
}

export function renderHtmlReport(r: HtmlReport): string {
  const cards = r.cards
    .map(
      (c, i) => `
<section class="card ${c.failed ? 'failed' : ''}" id="image-${i}">
  <h2>${i + 1}. ${escapeHtml(c.name)} <small>${c.width}x${c.height}${c.failed ? ' - below threshold' : ''}</small></h2>
  <div class="row">
    <figure><img alt="reference overlay of ${escapeHtml(c.name)}" src="${c.images.reference}"><figcaption>reference</figcaption></figure>
    <figure><img alt="deployed overlay of ${escapeHtml(c.name)}" src="${c.images.deployed}"><figcaption>deployed</figcaption></figure>
    <figure><img alt="difference heat map of ${escapeHtml(c.name)}" src="${c.images.diff}"><figcaption>|logit diff| heat map; cyan = class differs</figcaption></figure>
  </div>
  <div class="row">
    ${metricTable(c.metrics)}
    <table class="classes"><tr><th></th><th>class (worst IoU first)</th><th>IoU</th><th>ref px</th><th>dep px</th></tr>${c.classes
      .map((k) => `<tr><td><span class="swatch" style="background:rgb(${k.color.join(',')})"></span></td><td>${escapeHtml(k.name)}</td><td>${k.iou.toFixed(3)}</td><td>${k.referencePixels}</td><td>${k.deployedPixels}</td></tr>`)
      .join('')}</table>
  </div>
  ${findingList(c.findings)}
</section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(r.title)}</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1d1d1f; background: #fafafa; }
  h1 { margin: 0 0 4px; font-size: 22px; }
  .verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; color: #fff; font-weight: 600; }
  .verdict.pass { background: #2e7d32; } .verdict.fail { background: #c62828; }
  .meta { color: #555; margin: 4px 0 16px; }
  .card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 12px 16px; margin: 16px 0; }
  .card.failed { border-color: #c62828; }
  .card h2 { font-size: 16px; margin: 0 0 8px; } .card h2 small { color: #777; font-weight: normal; }
  .row { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
  figure { margin: 0; } figure img { display: block; max-width: 360px; height: auto; border: 1px solid #ccc; image-rendering: pixelated; }
  figcaption { font-size: 12px; color: #555; }
  table { border-collapse: collapse; } th, td { padding: 2px 8px; text-align: left; border-bottom: 1px solid #eee; font-variant-numeric: tabular-nums; }
  tr.bad td, tr.bad th { color: #c62828; } tr.ok .mark { color: #2e7d32; } .mark { font-weight: 600; }
  .swatch { display: inline-block; width: 12px; height: 12px; border: 1px solid #888; }
  ul.findings { padding-left: 18px; } li.error { color: #b71c1c; } li.warning { color: #8a6d00; } .fix { color: #444; }
  code { background: #f0f0f0; padding: 0 3px; border-radius: 3px; }
</style>
</head>
<body>
<h1>${escapeHtml(r.heading ?? 'segstream verify')} <span class="verdict ${r.verdict}">${r.verdict === 'pass' ? 'PASS' : 'FAIL'}</span></h1>
<div class="meta">${escapeHtml(r.generatedAt)}<br>reference: ${escapeHtml(r.reference)}<br>deployed: ${escapeHtml(r.deployed)}<br>deployed input path: ${escapeHtml(r.deployedPath)}</div>
<h2>Overall (pooled over ${r.cards.length} image${r.cards.length === 1 ? '' : 's'})</h2>
${metricTable(r.overall)}
${findingList(r.findings)}
${r.notes.map((n) => `<p class="meta">${escapeHtml(n)}</p>`).join('\n')}
${(r.sections ?? []).map((s) => `<h2>${escapeHtml(s.title)}</h2>\n${s.html}`).join('\n')}
<h2>Images, worst first</h2>
${cards}
</body>
</html>
`;
}
