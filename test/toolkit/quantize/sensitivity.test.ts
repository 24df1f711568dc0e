/**
 * Planted sensitivity: a toy model built with the TypeScript ONNX builder whose LayerNorm reads an outlier
 * channel (constant 300 next to channels of |x| < 1). The measurement must rank that LayerNorm first, and
 * the search must raise exactly it to int16 to reach the 99.5 % target. With a harmless outlier (1), the
 * LayerNorm costs nothing and all-int8 passes: the ranking comes from the model, not from the op type.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelInfo } from '../../../server/model/load.ts';
import { collectStats } from '../../../server/toolkit/quantize/calibration.ts';
import { Evaluator } from '../../../server/toolkit/quantize/evaluate.ts';
import { QuantGraph } from '../../../server/toolkit/quantize/graph.ts';
import { feedsFromImages, type ModelFeed } from '../../../server/toolkit/quantize/inputs.ts';
import { QdqWriter } from '../../../server/toolkit/quantize/qdq-writer.ts';
import { rankUnits, SensitivityLab } from '../../../server/toolkit/quantize/sensitivity.ts';
import { findUnits } from '../../../server/toolkit/quantize/units.ts';
import { tempDir } from '../../helpers/media.ts';
import { plantedLayerNormModel, writePatchImages } from './models.ts';
import { at } from '../../../server/util/checked-access.ts';

let dir: string;
let feeds: ModelFeed[];

beforeAll(async () => {
  dir = tempDir('planted');
  await writePatchImages(path.join(dir, 'images'), 4);
  await fs.writeFile(path.join(dir, 'model.onnx'), plantedLayerNormModel());
  feeds = await feedsFromImages(path.join(dir, 'images'), await loadModelInfo(path.join(dir, 'model.onnx')));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function lab(outlier: number, target?: number) {
  const bytes = plantedLayerNormModel({ outlier });
  const g = QuantGraph.decode(bytes, 'planted.onnx');
  const stats = await collectStats(g, feeds, { quiet: true, histograms: false });
  const units = findUnits(g, (v) => stats.has(v));
  const evaluator = await Evaluator.create(bytes, feeds, 'logits', { classes: 4, height: 16, width: 16, layout: 'NCHW' }, 1, 'disabled');
  return new SensitivityLab(new QdqWriter(g, stats), evaluator, units, { qdq: { calibrator: { kind: 'max' }, activations: 'symmetric' }, quiet: true, ...(target !== undefined ? { target } : {}) });
}

describe('planted sensitivity', () => {
  it('ranks the LayerNorm fed by the outlier channel first, far below the other units', async () => {
    const l = await lab(300);
    expect(l.units.map((u) => u.kind).sort()).toEqual(['conv', 'layernorm', 'projection']);
    const ranked = await l.measure();
    expect(at(ranked, 0, 'ranked').kind).toBe('layernorm');
    expect(at(ranked, 0, 'ranked').nodes).toEqual(['/norm/LayerNormalization']);
    expect(at(ranked, 0, 'ranked').score.worstAgreement).toBeLessThan(0.6);
    for (const u of ranked.slice(1)) expect(u.score.worstAgreement).toBeGreaterThanOrEqual(0.995);
    expect(l.evaluationCount).toBe(3);
  });

  it('the search raises exactly that LayerNorm to int16, which recovers the 99.5 % target', async () => {
    const l = await lab(300);
    const ranked = await l.measure();
    const result = await l.search(ranked);
    expect(result.target).toBe(0.995);
    expect(at(result.history, 0, 'result.history').phase).toBe('baseline');
    expect(at(result.history, 0, 'result.history').passed).toBe(false); // all int8 fails
    expect(result.reached).toBe(true);
    expect(result.int16).toEqual([at(ranked, 0, 'ranked').id]);
    expect(result.float).toEqual([]);
    expect(result.score.worstAgreement).toBeGreaterThanOrEqual(0.995);
    // The prune step tried lowering it back to int8, and that failed.
    const prune = result.history.filter((h) => h.phase === 'prune');
    expect(prune).toHaveLength(1);
    expect(at(prune, 0, 'prune').passed).toBe(false);
    expect(l.precisionOf(result).get('/norm/LayerNormalization')).toBe('int16');
    expect(l.precisionOf(result).get('/head/MatMul')).toBe('int8');
  });

  it('a harmless outlier: the LayerNorm costs nothing and all int8 passes', async () => {
    const l = await lab(1);
    const ranked = await l.measure();
    const ln = ranked.find((u) => u.kind === 'layernorm')!;
    expect(ln.score.worstAgreement).toBeGreaterThanOrEqual(0.995);
    const result = await l.search(ranked);
    expect(result.history).toHaveLength(1);
    expect(result.reached).toBe(true);
    expect(result.int16).toEqual([]);
  });

  it('keeps units float when even int16 cannot reach the target', async () => {
    // An outlier so large that even int16 (step 3e6 / 32767 ~ 92) erases channels with |x| < 1.
    const l = await lab(3e6, 0.995);
    const ranked = await l.measure();
    expect(at(ranked, 0, 'ranked').kind).toBe('layernorm');
    const result = await l.search(ranked);
    expect(result.reached).toBe(true);
    expect(result.float).toEqual([at(ranked, 0, 'ranked').id]);
    expect(result.history.some((h) => h.phase === 'float')).toBe(true);
  });

  it('ranking: worst-image agreement first, then pooled agreement, then cosine', () => {
    const s = (worstAgreement: number, agreement: number, cosine: number) => ({ worstAgreement, agreement, cosine, meanIoU: 1, worstCosine: cosine, maxAbsDiff: 0 });
    const base = { kind: 'conv' as const, label: '', nodes: [], named: true };
    const r = rankUnits([
      { ...base, id: 'a', score: s(0.99, 0.999, 0.9) },
      { ...base, id: 'b', score: s(0.98, 0.999, 0.99) },
      { ...base, id: 'c', score: s(0.99, 0.995, 0.99) },
      { ...base, id: 'd', score: s(0.99, 0.999, 0.8) },
    ]);
    expect(r.map((u) => u.id)).toEqual(['b', 'c', 'd', 'a']);
    expect(r.map((u) => u.rank)).toEqual([1, 2, 3, 4]);
  });
});
