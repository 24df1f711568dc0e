/** ADE20K's 150 class names for the demo model: count, uniqueness, known ids, and the config.json the demo writes. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADE20K_LABELS, demoClassName } from '../../server/model/demo/ade20k-labels.ts';
import { demoConfigJson } from '../../server/model/demo/demo-model.ts';

describe('ADE20K labels', () => {
  it('has 150 distinct, trimmed, non-empty names', () => {
    expect(ADE20K_LABELS).toHaveLength(150);
    expect(new Set(ADE20K_LABELS).size).toBe(150);
    for (const name of ADE20K_LABELS) {
      expect(name.length).toBeGreaterThan(0);
      expect(name.trim()).toBe(name);
      expect(name).not.toMatch(/^class \d+$/);
    }
  });

  it('puts the known names at their ADE20K SceneParsing ids', () => {
    // Spot checks against the id2label of nvidia/segformer-b0-finetuned-ade-512-512 (config.json on the hub).
    const known: [number, string][] = [[0, 'wall'], [1, 'building'], [2, 'sky'], [3, 'floor'], [4, 'tree'], [12, 'person'], [20, 'car'],
      [44, 'chest of drawers'], [89, 'television receiver'], [127, 'bicycle'], [136, 'traffic light'], [148, 'clock'], [149, 'flag']];
    for (const [id, name] of known) expect(ADE20K_LABELS[id], `id ${id}`).toBe(name);
  });

  it('matches every id2label entry of a config.json written by Hugging Face transformers', () => {
    // test/fixtures/models/segformer-b0-ade-random/config.json came out of transformers' SegFormer export (the ADE
    // config); its id 7 is "bed " with a trailing space, which the list drops.
    const file = path.resolve(import.meta.dirname, '../fixtures/models/segformer-b0-ade-random/config.json');
    const id2label = (JSON.parse(readFileSync(file, 'utf8')) as { id2label: Record<string, string> }).id2label;
    expect(Object.keys(id2label)).toHaveLength(150);
    const differing = ADE20K_LABELS.flatMap((name, id) => (id2label[String(id)]?.trim() === name ? [] : [`${id}: ${id2label[String(id)]} vs ${name}`]));
    expect(differing).toEqual([]);
  });

  it('numbers ids past the list', () => {
    expect(demoClassName(2)).toBe('sky');
    expect(demoClassName(150)).toBe('class 150');
  });

  it('is what the demo config.json carries, both ways', () => {
    const config = demoConfigJson({ variant: 'b0', size: 64 }) as { id2label: Record<string, string>; label2id: Record<string, number> };
    expect(Object.keys(config.id2label)).toHaveLength(150);
    expect(config.id2label['12']).toBe('person');
    expect(config.label2id.flag).toBe(149);
    const small = demoConfigJson({ variant: 'tiny' }) as { id2label: Record<string, string> };
    expect(Object.values(small.id2label)).toEqual(ADE20K_LABELS.slice(0, 8));
  });
});
