/**
 * Step 6 of `segstream verify`: the report. report.json always; report.html (one self-contained file:
 * images inline, no scripts) with the verdict, the pooled numbers and, per image worst first, the reference
 * and deployed overlays, a heat map of |logit diff| (cyan where the class differs) and the weakest classes.
 * Also the text table the command prints.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { overlayRgb, resizeClassMap, resizeRgb } from '../../kernels/index.ts';
import { makePalette } from '../../stages/render/palette.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { formatFindings, type Finding } from '../report/findings.ts';
import { heatColour, pngDataUri, renderHtmlReport, type HtmlImageCard, type HtmlMetricRow } from '../report/report-html.ts';
import type { LogitStats } from './accuracy-metrics.ts';
import type { ImageComparison, OverallResult, VerifyImageResult } from './compare.ts';
import { describeInput, describeOutput, type VerifyModels } from './load-models.ts';
import type { ResolvedVerifyOptions, VerifyThresholds } from './request.ts';
import type { PreparedImage } from './prepare-images.ts';
import { at } from '../../util/checked-access.ts';

export interface VerifyReport {
  tool: 'segstream verify';
  createdAt: string;
  reference: { path: string; name: string; input: string; output: string };
  deployed: { path: string; name: string; kind: string; input: string; output: string; note?: string };
  deployedPath: string;
  postprocess: string;
  thresholds: VerifyThresholds;
  overall: OverallResult;
  images: VerifyImageResult[];
  passed: boolean;
  failures: string[];
  findings: Finding[];
  htmlPath?: string;
  jsonPath: string;
}

interface PendingCard {
  card: Omit<HtmlImageCard, 'images'> & { images: { reference: string; deployed: string } };
  diff: { cells: Float32Array | null; gw: number; gh: number; mismatch: Uint8Array; preview: Uint8Array; pw: number; ph: number };
}

/** Collects the per-image pictures while the images are compared; writes the files at the end. */
export class VerifyReportWriter {
  private readonly pending: PendingCard[] = [];
  private readonly palette: Uint8Array;

  constructor(
    private readonly o: ResolvedVerifyOptions,
    private readonly models: VerifyModels,
    private readonly deployedPathText: string,
  ) {
    this.palette = makePalette(models.reference.info.output.classes);
  }

  /** Small previews now; the heat map is drawn once the run's largest difference is known. */
  async addImage(prepared: PreparedImage, c: ImageComparison): Promise<void> {
    if (this.o.noHtml) return;
    const img = prepared.image;
    const t = this.o.thresholds;
    const { logits, classMap, preprocess } = c.result;
    const palette = this.palette;
    const pw = Math.min(360, img.width);
    const ph = Math.max(1, Math.round((img.height * pw) / img.width));
    const preview = resizeRgb(img.rgb, img.width, img.height, pw, ph);
    const refSmall = resizeClassMap(c.referenceMap, pw, ph);
    const depSmall = resizeClassMap(c.deployedMap, pw, ph);
    const mismatch = new Uint8Array(pw * ph);
    for (let i = 0; i < mismatch.length; i++) mismatch[i] = refSmall.data[i] !== depSmall.data[i] ? 1 : 0;
    const refOverlay = overlayRgb(preview, pw, ph, refSmall, palette, { opacity: 0.55 }).rgb;
    const depOverlay = overlayRgb(preview, pw, ph, depSmall, palette, { opacity: 0.55 }).rgb;
    const rows: HtmlMetricRow[] = [];
    if (logits) {
      rows.push({ label: 'logits cosine', value: logits.cosine.toFixed(6), ...(t.minCosine !== undefined ? { pass: logits.cosine >= t.minCosine } : {}) });
      rows.push({ label: 'mean |logit diff|', value: logits.meanAbsDiff.toPrecision(4), ...(t.maxMeanDiff !== undefined ? { pass: logits.meanAbsDiff <= t.maxMeanDiff } : {}) });
      rows.push({ label: 'max |logit diff|', value: logits.maxAbsDiff.toPrecision(4), ...(t.maxAbsDiff !== undefined ? { pass: logits.maxAbsDiff <= t.maxAbsDiff } : {}) });
    }
    rows.push({ label: 'class-map agreement', value: `${(classMap.agreement * 100).toFixed(2)}%`, ...(t.minAgreement !== undefined ? { pass: classMap.agreement >= t.minAgreement } : {}) });
    rows.push({ label: 'mean IoU (deployed vs reference)', value: classMap.meanIoU.toFixed(4), ...(t.minMeanIoU !== undefined ? { pass: classMap.meanIoU >= t.minMeanIoU } : {}) });
    if (preprocess) {
      rows.push({ label: 'preprocessing mean |diff|', value: `${preprocess.meanAbsDiff.toPrecision(3)} (${(preprocess.meanAbsDiff / preprocess.lsb).toFixed(2)} LSB), max ${preprocess.maxAbsDiff.toPrecision(3)}`, ...(t.maxPreprocessDiff !== undefined ? { pass: preprocess.meanAbsDiff <= t.maxPreprocessDiff } : {}) });
    }
    const worstClasses = [...classMap.perClass].sort((a, b) => a.iou - b.iou).slice(0, 6);
    this.pending.push({
      card: {
        name: prepared.name,
        width: img.width,
        height: img.height,
        failed: c.result.failures.length > 0,
        metrics: rows,
        classes: worstClasses.map((k) => ({ name: k.name, color: [at(palette, k.classId * 3, 'palette'), at(palette, k.classId * 3 + 1, 'palette'), at(palette, k.classId * 3 + 2, 'palette')], iou: k.iou, referencePixels: k.referencePixels, deployedPixels: k.deployedPixels })),
        findings: c.result.findings,
        images: { reference: await pngDataUri(refOverlay, pw, ph), deployed: await pngDataUri(depOverlay, pw, ph) },
      },
      diff: { cells: c.diffCells, gw: c.gridWidth, gh: c.gridHeight, mismatch, preview, pw, ph },
    });
  }

  /** Builds the report, writes report.html (unless noHtml) and report.json, and returns it. */
  async write(images: VerifyImageResult[], overall: OverallResult, failures: string[], findings: Finding[]): Promise<VerifyReport> {
    const { reference, deployed } = this.models;
    const refInfo = reference.info;
    const depInfo = deployed.info;
    const outDir = this.o.out ?? 'segstream-verify';
    await fs.mkdir(outDir, { recursive: true });
    const passed = failures.length === 0;
    const report: VerifyReport = {
      tool: 'segstream verify',
      createdAt: new Date().toISOString(),
      reference: { path: path.resolve(refInfo.path), name: refInfo.name, input: describeInput(refInfo), output: describeOutput(refInfo) },
      deployed: {
        path: deployed.displayPath,
        name: depInfo.name,
        kind: deployed.backend.kind,
        input: describeInput(depInfo),
        output: describeOutput(depInfo),
        ...(deployed.note ? { note: deployed.note } : {}),
      },
      deployedPath: this.deployedPathText,
      postprocess: this.o.postprocess,
      thresholds: this.o.thresholds,
      overall,
      images,
      passed,
      failures,
      findings,
      jsonPath: path.join(outDir, 'report.json'),
    };
    if (!this.o.noHtml) {
      report.htmlPath = path.join(outDir, 'report.html');
      await writeFileAtomic(report.htmlPath, await this.html(report));
    }
    await writeFileAtomic(report.jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    return report;
  }

  private async html(report: VerifyReport): Promise<string> {
    const { overall, failures, findings, images } = report;
    const refInfo = this.models.reference.info;
    const note = this.models.deployed.note;
    const scale = Math.max(1e-12, ...this.pending.map((p) => (p.diff.cells ? p.diff.cells.reduce((m, v) => (v > m ? v : m), 0) : 0)));
    const cards: HtmlImageCard[] = [];
    for (const p of this.pending) {
      const { cells, gw, gh, mismatch, preview, pw, ph } = p.diff;
      const heat = new Uint8Array(pw * ph * 3);
      for (let y = 0; y < ph; y++) {
        for (let x = 0; x < pw; x++) {
          const i = y * pw + x;
          let rgb: [number, number, number];
          if (mismatch[i]) rgb = [0, 230, 255];
          else if (cells) rgb = heatColour(at(cells, Math.min(gh - 1, Math.floor((y * gh) / ph)) * gw + Math.min(gw - 1, Math.floor((x * gw) / pw)), 'cells') / scale);
          else {
            const g = Math.round((at(preview, i * 3, 'preview') + at(preview, i * 3 + 1, 'preview') + at(preview, i * 3 + 2, 'preview')) / 6);
            rgb = [g, g, g];
          }
          heat.set(rgb, i * 3);
        }
      }
      cards.push({ ...p.card, images: { ...p.card.images, diff: await pngDataUri(heat, pw, ph) } });
    }
    const order = images.map((im, i) => ({ i, key: im.classMap.agreement })).sort((a, b) => a.key - b.key);
    const sorted = order.map((x) => at(cards, x.i, 'cards'));
    const rows: HtmlMetricRow[] = [];
    const t = report.thresholds;
    if (overall.logits) {
      rows.push({ label: 'logits cosine (pooled / worst image)', value: `${overall.logits.cosine.toFixed(6)} / ${overall.worstCosine!.toFixed(6)}`, ...(t.minCosine !== undefined ? { pass: overall.worstCosine! >= t.minCosine } : {}) });
      rows.push({ label: 'mean |logit diff|', value: overall.logits.meanAbsDiff.toPrecision(4) });
      rows.push({ label: 'max |logit diff|', value: overall.logits.maxAbsDiff.toPrecision(4) });
    }
    rows.push({ label: 'class-map agreement (pooled / worst image)', value: `${(overall.classMap.agreement * 100).toFixed(2)}% / ${(overall.worstAgreement * 100).toFixed(2)}%`, ...(t.minAgreement !== undefined ? { pass: overall.worstAgreement >= t.minAgreement } : {}) });
    rows.push({ label: 'mean IoU over classes (pooled)', value: overall.classMap.meanIoU.toFixed(4) });
    if (overall.preprocess) rows.push({ label: 'preprocessing mean |diff| / max', value: `${overall.preprocess.meanAbsDiff.toPrecision(3)} / ${overall.preprocess.maxAbsDiff.toPrecision(3)}` });
    for (const f of failures) rows.push({ label: 'failed', value: f, pass: false });
    return renderHtmlReport({
      title: `segstream verify: ${refInfo.name} vs ${this.models.deployed.info.name}`,
      generatedAt: report.createdAt,
      reference: `${report.reference.path} (${report.reference.input}; ${report.reference.output})`,
      deployed: `${report.deployed.path} (${report.deployed.kind}; ${report.deployed.input}; ${report.deployed.output})${note ? ` - ${note}` : ''}`,
      deployedPath: report.deployedPath,
      verdict: report.passed ? 'pass' : 'fail',
      overall: rows,
      findings,
      cards: sorted,
      notes: [
        `Post-processing: ${report.postprocess}. Class maps compared at each image's own size. Heat map: mean |logit diff| over classes per logit cell, scaled to the largest cell of the run (${scale.toPrecision(3)}).`,
        refInfo.untrainedDemo ? 'The reference is segstream\'s untrained demo model: its masks are meaningless; the agreement numbers are still real.' : '',
      ].filter((n) => n !== ''),
    });
  }
}

export function formatVerifyReport(r: VerifyReport): string {
  let out = `reference: ${r.reference.path}\ndeployed:  ${r.deployed.path}${r.deployed.note ? `\n           ${r.deployed.note}` : ''}\ninput path: ${r.deployedPath}\n\n`;
  const head = 'image'.padEnd(28) + 'cosine'.padStart(10) + 'mean|d|'.padStart(10) + 'max|d|'.padStart(10) + 'agree%'.padStart(9) + 'mIoU'.padStart(8) + 'pre|d|'.padStart(10);
  out += `${head}\n`;
  const row = (name: string, l: LogitStats | null, agree: number, miou: number, pre: number | undefined) =>
    name.slice(0, 27).padEnd(28) +
    (l ? l.cosine.toFixed(5) : '-').padStart(10) +
    (l ? l.meanAbsDiff.toPrecision(3) : '-').padStart(10) +
    (l ? l.maxAbsDiff.toPrecision(3) : '-').padStart(10) +
    (agree * 100).toFixed(2).padStart(9) +
    miou.toFixed(3).padStart(8) +
    (pre === undefined ? '-' : pre.toPrecision(3)).padStart(10);
  for (const i of r.images) out += `${row(i.image, i.logits, i.classMap.agreement, i.classMap.meanIoU, i.preprocess?.meanAbsDiff)}\n`;
  out += `${row('overall (pooled)', r.overall.logits, r.overall.classMap.agreement, r.overall.classMap.meanIoU, r.overall.preprocess?.meanAbsDiff)}\n`;
  if (r.findings.length > 0) out += `\n${formatFindings(r.findings)}`;
  out += r.passed ? `\nPASS${Object.keys(r.thresholds).length === 0 ? ' (no thresholds given)' : ''}\n` : `\nFAIL:\n${r.failures.map((f) => `  ${f}`).join('\n')}\n`;
  out += `report: ${r.htmlPath ?? '(no html)'}  ${r.jsonPath}\n`;
  return out;
}
