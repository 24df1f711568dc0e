/**
 * The quantize report in three forms: a ranked text table (stdout), quantize.json (everything, including
 * the node_info mapper-config reads), and report.html (self-contained, through report-html.ts: the numbers,
 * a sensitivity bar chart, the search's progress, the chosen set, and float vs quantized class maps).
 */
import path from 'node:path';
import { overlayRgb, resizeClassMap, resizeRgb } from '../../kernels/index.ts';
import { makePalette } from '../../stages/render/palette.ts';
import { escapeHtml, pngDataUri, renderHtmlReport, type HtmlImageCard, type HtmlMetricRow } from '../report/report-html.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import type { Score } from './evaluate.ts';
import type { QuantizeReport, QuantizeRun } from './quantize.ts';
import { barChart, KIND_COLOURS, stepChart } from './svg-charts.ts';
import { at } from '../../util/checked-access.ts';

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function scoreText(s: Score): string {
  return `cosine ${s.cosine.toFixed(5)} (worst image ${s.worstCosine.toFixed(5)}), agreement ${pct(s.agreement)} (worst image ${pct(s.worstAgreement)}), mIoU ${s.meanIoU.toFixed(4)}`;
}

export function formatQuantizeReport(r: QuantizeReport, top = 20): string {
  const c = r.output.counts;
  let out = `model:       ${r.model.path}${r.model.untrainedDemo ? ' (untrained demo model)' : ''}\n`;
  out += `target:      ${r.target} (activations ${r.calibration.activations === 'symmetric' ? 'int8 symmetric' : 'uint8 asymmetric'}; weights ${r.calibration.weights}; scored by ${r.evaluation.execution})\n`;
  out += `calibration: ${r.calibration.inputs.length} inputs from ${r.calibration.source}; calibrator ${r.calibration.calibrator}${r.calibration.percentile !== undefined ? ` ${r.calibration.percentile}%` : ''}\n`;
  out += `units:       ${r.units.total} (${Object.entries(r.units.byKind).map(([k, v]) => `${v} ${k}`).join(', ')})\n`;
  if (r.sensitivity) {
    const rows = r.sensitivity.ranked.slice(0, top);
    out += `\nsensitivity: each unit alone in int8, the rest float, vs the float model (${r.evaluation.inputs.length} images, ${r.evaluation.classMaps})\n`;
    out += `${'rank'.padStart(4)}  ${'kind'.padEnd(17)}${'worst agr'.padStart(10)}${'agree'.padStart(9)}${'cosine'.padStart(10)}${'mIoU'.padStart(8)}  unit\n`;
    for (const u of rows) {
      out += `${String(u.rank).padStart(4)}  ${u.kind.padEnd(17)}${pct(u.score.worstAgreement).padStart(10)}${pct(u.score.agreement).padStart(9)}${u.score.cosine.toFixed(5).padStart(10)}${u.score.meanIoU.toFixed(3).padStart(8)}  ${u.label}\n`;
    }
    if (r.sensitivity.ranked.length > rows.length) out += `  ... ${r.sensitivity.ranked.length - rows.length} more in ${r.jsonPath}\n`;
  }
  if (r.search) {
    const s = r.search;
    out += `\nsearch (target: ${pct(s.target)} agreement on every image; ${s.history.length} configurations scored):\n`;
    for (const h of s.history) out += `  ${String(h.step).padStart(3)}. ${h.description}: worst ${pct(h.score.worstAgreement)}, pooled ${pct(h.score.agreement)}${h.passed ? '  pass' : ''}\n`;
    out += s.reached
      ? `chosen: ${s.int16.length} unit(s) int16, ${s.float.length} float, the rest int8\n`
      : `target NOT reached; best configuration kept: ${s.int16.length} int16, ${s.float.length} float\n`;
  }
  out += `\nprecision:   ${c.nodes.int8} nodes int8, ${c.nodes.int16} int16, ${c.nodes.float} float (${r.precision.source}); ${c.int8Values} int8 + ${c.int16Values} int16 activation pairs, ${c.weights} weights, ${c.int32Biases} int32 biases${r.output.int16Domain === 'com.microsoft' && c.int16Values > 0 ? '; int16 Q/DQ in the com.microsoft domain' : ''}\n`;
  out += `score:       ${scoreText(r.score)}\n`;
  for (const n of r.notes) out += `note: ${n}\n`;
  out += `wrote:       ${r.output.model}\n             ${r.jsonPath}${r.htmlPath ? `\n             ${r.htmlPath}` : ''}\n`;
  return out;
}

function table(head: string[], rows: string[][]): string {
  return `<table class="metrics"><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('')}</table>`;
}

async function cards(run: QuantizeRun, classes: number): Promise<HtmlImageCard[]> {
  const p = run.pictures;
  if (!p) return [];
  const palette = makePalette(classes);
  const out: { card: HtmlImageCard; agreement: number }[] = [];
  const { width: gw, height: gh } = run.report.evaluation.grid;
  for (let i = 0; i < p.feeds.length; i++) {
    const f = at(p.feeds, i, 'p.feeds');
    const scored = at(run.report.images, i, 'run.report.images');
    if (!f.image || !p.maps[i] || gw === 0) continue;
    const pw = Math.min(360, f.image.width);
    const ph = Math.max(1, Math.round((f.image.height * pw) / f.image.width));
    const preview = resizeRgb(f.image.rgb, f.image.width, f.image.height, pw, ph);
    const ref = resizeClassMap({ data: at(p.refMaps, i, 'p.refMaps'), width: gw, height: gh }, pw, ph);
    const dep = resizeClassMap({ data: at(p.maps, i, 'p.maps'), width: gw, height: gh }, pw, ph);
    const diff = new Uint8Array(pw * ph * 3);
    for (let k = 0; k < pw * ph; k++) {
      if (ref.data[k] !== dep.data[k]) diff.set([0, 230, 255], k * 3);
      else {
        const v = Math.round((at(preview, k * 3, 'preview') + at(preview, k * 3 + 1, 'preview') + at(preview, k * 3 + 2, 'preview')) / 6);
        diff.set([v, v, v], k * 3);
      }
    }
    out.push({ agreement: scored.agreement, card: {
      name: f.name,
      width: f.image.width,
      height: f.image.height,
      failed: run.report.evaluation.target !== null && scored.agreement < run.report.evaluation.target,
      metrics: [
        { label: 'logits cosine', value: scored.cosine.toFixed(6) },
        { label: 'class-map agreement', value: pct(scored.agreement) },
        { label: 'mean IoU (quantized vs float)', value: scored.meanIoU.toFixed(4) },
      ],
      classes: [],
      findings: [],
      images: {
        reference: await pngDataUri(overlayRgb(preview, pw, ph, ref, palette, { opacity: 0.55 }).rgb, pw, ph),
        deployed: await pngDataUri(overlayRgb(preview, pw, ph, dep, palette, { opacity: 0.55 }).rgb, pw, ph),
        diff: await pngDataUri(diff, pw, ph),
      },
    } });
  }
  return out.sort((a, b) => a.agreement - b.agreement).map((x) => x.card);
}

export async function renderQuantizeHtml(run: QuantizeRun): Promise<string> {
  const r = run.report;
  const target = r.evaluation.target;
  const overall: HtmlMetricRow[] = [
    { label: 'logits cosine (pooled / worst image)', value: `${r.score.cosine.toFixed(6)} / ${r.score.worstCosine.toFixed(6)}` },
    { label: 'class-map agreement (pooled / worst image)', value: `${pct(r.score.agreement)} / ${pct(r.score.worstAgreement)}`, ...(target !== null ? { pass: r.score.worstAgreement >= target } : {}) },
    { label: 'mean IoU vs float (pooled)', value: r.score.meanIoU.toFixed(4) },
    { label: 'nodes int8 / int16 / float', value: `${r.output.counts.nodes.int8} / ${r.output.counts.nodes.int16} / ${r.output.counts.nodes.float}` },
    { label: 'target', value: `${r.target}: activations ${r.calibration.activations}, weights ${r.calibration.weights}` },
    { label: 'calibration', value: `${r.calibration.inputs.length} inputs, ${r.calibration.calibrator}${r.calibration.percentile !== undefined ? ` ${r.calibration.percentile}%` : ''}` },
  ];
  const sections: { title: string; html: string }[] = [];
  if (r.sensitivity) {
    const ranked = r.sensitivity.ranked;
    const shown = ranked.slice(0, 40);
    sections.push({
      title: `Sensitivity: agreement lost when only this unit is int8 (worst image), top ${shown.length} of ${ranked.length}`,
      html:
        barChart(
          shown.map((u) => ({ label: `${u.rank}. ${u.label}`, value: 1 - u.score.worstAgreement, colour: KIND_COLOURS[u.kind] ?? '#555', text: `${pct(1 - u.score.worstAgreement)} (${u.kind})` })),
          { title: 'agreement lost on the worst image; colour = kind' },
        ) +
        `<p class="meta">${Object.entries(KIND_COLOURS).map(([k, c]) => `<span class="swatch" style="background:${c}"></span> ${escapeHtml(k)}`).join(' &nbsp; ')}</p>` +
        table(
          ['kind', 'units', 'mean agreement lost (worst image)', 'most sensitive'],
          Object.entries(
            ranked.reduce<Record<string, typeof ranked>>((acc, u) => {
              (acc[u.kind] ??= []).push(u);
              return acc;
            }, {}),
          ).map(([kind, list]) => [kind, String(list.length), pct(list.reduce((a, u) => a + (1 - u.score.worstAgreement), 0) / list.length), `${at(list, 0, 'list').label} (rank ${at(list, 0, 'list').rank})`]),
        ),
    });
  }
  if (r.search) {
    const s = r.search;
    sections.push({
      title: 'Search: configurations scored, in order',
      html:
        stepChart(
          s.history.map((h) => ({ x: h.step, y: h.score.worstAgreement, pass: h.passed, label: h.description })),
          { title: 'worst-image agreement of each configuration the search scored (green = reaches the target)', target: s.target, xLabel: 'configuration scored' },
        ) +
        table(
          ['#', 'configuration', 'int16 units', 'float units', 'worst agreement', 'pooled agreement', 'cosine'],
          s.history.map((h) => [String(h.step), h.description, String(h.int16Units), String(h.floatUnits), pct(h.score.worstAgreement), pct(h.score.agreement), h.score.cosine.toFixed(5)]),
        ),
    });
    const chosen = [...s.float.map((id) => ({ id, p: 'float' })), ...s.int16.map((id) => ({ id, p: 'int16' }))];
    const byId = new Map((r.sensitivity?.ranked ?? []).map((u) => [u.id, u]));
    sections.push({
      title: s.reached ? `Chosen: ${s.int16.length} unit(s) int16, ${s.float.length} float, the rest int8` : 'Target not reached: the best configuration found',
      html: chosen.length
        ? table(
            ['precision', 'rank', 'kind', 'unit', 'nodes (node_info)'],
            chosen.map(({ id, p }) => {
              const u = byId.get(id);
              return [p, String(u?.rank ?? ''), u?.kind ?? '', u?.label ?? id, (u?.nodes ?? []).join(', ')];
            }),
          )
        : '<p>All int8 reaches the target: nothing needs raising.</p>',
    });
  }
  return renderHtmlReport({
    heading: 'segstream quantize',
    title: `segstream quantize: ${r.model.name}`,
    generatedAt: r.createdAt,
    reference: `${r.model.path} (float)`,
    deployed: `${r.output.model} (QDQ: ${r.output.counts.nodes.int8} int8, ${r.output.counts.nodes.int16} int16, ${r.output.counts.nodes.float} float nodes)`,
    deployedPath: 'the same input tensor (reference preprocessing)',
    verdict: target === null || r.score.worstAgreement >= target ? 'pass' : 'fail',
    overall,
    findings: [],
    cards: await cards(run, r.model.classes),
    notes: [
      `Scored by ${r.evaluation.execution}. Class maps: ${r.evaluation.classMaps}; run segstream verify --deployed ${path.join(r.output.dir, 'model.onnx')} for image-size class maps and per-class IoU.`,
      ...r.notes,
      `Machine: ${r.machine.cpus} CPUs, load average ${r.machine.loadAverageStart.map((x) => x.toFixed(2)).join(' ')} at start, ${r.machine.loadAverageEnd.map((x) => x.toFixed(2)).join(' ')} at the end.`,
    ],
    sections,
  });
}

/** Writes report.html (unless noHtml) and quantize.json (last: its presence means the run completed). */
export async function writeQuantizeReports(run: QuantizeRun, o: { noHtml?: boolean } = {}): Promise<void> {
  const r = run.report;
  if (!o.noHtml) {
    r.htmlPath = path.join(r.output.dir, 'report.html');
    await writeFileAtomic(r.htmlPath, await renderQuantizeHtml(run));
  }
  await writeFileAtomic(r.jsonPath, `${JSON.stringify(r, null, 2)}\n`);
}
