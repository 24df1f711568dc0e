/**
 * The mock server's deterministic picture and class map. Exported so tests can recompute exactly what any frame
 * id showed (snapshot checks) and what shares the legend must report.
 */
import { addAt, at } from '../../server/util/checked-access.ts';
import { seededRandom } from '../helpers/seeded-random.ts';

export const MOCK_CLASS_COUNT = 150;

/** Ids the scene uses, with readable names; all other ids are named "class N". */
export const MOCK_CLASSES = { building: 1, sky: 2, floor: 3, person: 12, flicker: 20 } as const;

export function mockClassNames(count = MOCK_CLASS_COUNT): string[] {
  const names = Array.from({ length: count }, (_, i) => `class ${i}`);
  names[0] = 'wall';
  for (const [name, id] of Object.entries(MOCK_CLASSES)) if (id < count) names[id] = name;
  return names;
}

/** Well separated colours: hues stepped by the golden angle, alternating lightness. */
export function mockPalette(count = MOCK_CLASS_COUNT): [number, number, number][] {
  const palette: [number, number, number][] = [];
  for (let i = 0; i < count; i++) {
    const hue = (i * 137.508) % 360;
    const light = i % 2 === 0 ? 0.55 : 0.42;
    palette.push(hslToRgb(hue, 0.75, light));
  }
  return palette;
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
  const m = l - c / 2;
  const [r, g, b] = h < 60 ? [c, x, 0] : h < 120 ? [x, c, 0] : h < 180 ? [0, c, x] : h < 240 ? [0, x, c] : h < 300 ? [x, 0, c] : [c, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

export interface SceneOptions {
  /** Moving parts (person box, scrolling floor); false gives the same picture every frame. */
  motion: boolean;
  /** Scatter `flickerShare` of the pixels as class `flicker`, at new random places each frame. */
  flickerShare: number;
  /**
   * A busy scene: the sky split into this many classes (ids from BUSY_FIRST_ID) in bands whose widths swell and
   * shrink from frame to frame, so their shares keep crossing (what a legend sees from a real, noisy model). 0: off.
   */
  busyClasses?: number;
}

export const BUSY_FIRST_ID = 30;

/** Band edges (columns) of the busy scene's classes in one frame: close base widths, each swaying by up to ±35 %. */
function busyBands(frameId: number, width: number, count: number): number[] {
  const weights = Array.from({ length: count }, (_, i) => (1 / (1 + i * 0.12)) * (1 + 0.35 * Math.sin(frameId * (0.11 + i * 0.017) + i * 1.7)));
  const total = weights.reduce((a, b) => a + b, 0);
  const edges: number[] = [];
  let sum = 0;
  for (const w of weights) edges.push(Math.round(((sum += w) / total) * width));
  return edges;
}


/** Where the person box is for a frame (in class-map pixels). */
function personBox(frameId: number, width: number, height: number, motion: boolean) {
  const boxW = Math.floor(width / 4);
  const boxH = Math.floor(height / 4);
  const left = Math.floor(width / 8);
  const travel = width - left - boxW;
  const x = left + (motion ? (frameId * 2) % (travel + 1) : Math.floor(travel / 2));
  const y = Math.floor(height / 2) + Math.floor(height / 8);
  return { x, y, w: boxW, h: boxH };
}

/**
 * Class map: a building strip on the left (1/8 of the width), sky above half height, floor below, a person box
 * (1/4 x 1/4) moving across the floor. With width divisible by 8 and height by 8 the shares are exactly
 * building 12.5 %, sky 43.75 %, floor 37.5 %, person 6.25 %.
 */
export function mockClassMap(frameId: number, width: number, height: number, scene: SceneOptions): Uint8Array {
  const ids = new Uint8Array(width * height);
  const strip = Math.floor(width / 8);
  const half = Math.floor(height / 2);
  const box = personBox(frameId, width, height, scene.motion);
  const busy = scene.busyClasses ?? 0;
  const skyIds = new Uint8Array(width).fill(MOCK_CLASSES.sky);
  if (busy > 0) {
    const edges = busyBands(frameId, width, busy);
    for (let x = 0, band = 0; x < width; x++) {
      while (band < busy - 1 && x >= at(edges, band, 'busy band edges')) band++;
      skyIds[x] = BUSY_FIRST_ID + band;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let id: number = x < strip ? MOCK_CLASSES.building : y < half ? at(skyIds, x, 'sky row') : MOCK_CLASSES.floor;
      if (x >= box.x && x < box.x + box.w && y >= box.y && y < box.y + box.h) id = MOCK_CLASSES.person;
      ids[y * width + x] = id;
    }
  }
  if (scene.flickerShare > 0) {
    const random = seededRandom(frameId * 7919 + 17);
    const count = Math.round(ids.length * scene.flickerShare);
    for (let n = 0; n < count; n++) ids[Math.floor(random() * ids.length)] = MOCK_CLASSES.flicker;
  }
  return ids;
}

/** [id, count] sorted by count descending, as in FrameHeader.classes. */
export function histogram(ids: Uint8Array): [number, number][] {
  const counts = new Uint32Array(256);
  for (const id of ids) addAt(counts, id, 1, 'histogram bins');
  const out: [number, number][] = [];
  counts.forEach((count, id) => {
    if (count > 0) out.push([id, count]);
  });
  return out.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
}

/**
 * The camera picture (RGB), drawn from the class map scaled to the frame (nearest), so overlay and picture line
 * up: textured regions plus, with motion, a scrolling floor pattern and a moving diagonal band.
 */
export function mockFrameRgb(frameId: number, width: number, height: number, map: Uint8Array, mapWidth: number, mapHeight: number, scene: SceneOptions): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  const shift = scene.motion ? frameId * 3 : 0;
  for (let y = 0; y < height; y++) {
    const my = Math.min(mapHeight - 1, Math.floor((y * mapHeight) / height));
    for (let x = 0; x < width; x++) {
      const mx = Math.min(mapWidth - 1, Math.floor((x * mapWidth) / width));
      const id = map[my * mapWidth + mx];
      let r: number, g: number, b: number;
      if (id === MOCK_CLASSES.sky) {
        r = 90 + (y * 60) / height; g = 140 + (y * 60) / height; b = 220;
      } else if (id === MOCK_CLASSES.building) {
        const stripe = (y >> 3) % 2 === 0 ? 20 : 0;
        r = 110 + stripe; g = 110 + stripe; b = 120 + stripe;
      } else if (id === MOCK_CLASSES.person) {
        r = 220; g = 170; b = 140;
      } else if (id === MOCK_CLASSES.floor) {
        const checker = (((x + shift) >> 4) + (y >> 4)) % 2 === 0;
        r = checker ? 150 : 120; g = checker ? 110 : 85; b = checker ? 70 : 50;
      } else {
        r = 40; g = 40; b = 40; // flicker pixels have no picture of their own
      }
      if (scene.motion && Math.abs(((x + y - shift * 2) % 160 + 160) % 160 - 80) < 6) {
        r = 255 - r; g = 255 - g; b = 255 - b;
      }
      const o = (y * width + x) * 3;
      rgb[o] = r; rgb[o + 1] = g; rgb[o + 2] = b;
    }
  }
  return rgb;
}

/** Blends palette colours onto the picture (what a server-side overlay would do). */
export function blendOverlay(rgb: Uint8Array, width: number, height: number, map: Uint8Array, mapWidth: number, mapHeight: number, palette: [number, number, number][], opacity: number): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < height; y++) {
    const my = Math.min(mapHeight - 1, Math.floor((y * mapHeight) / height));
    for (let x = 0; x < width; x++) {
      const mx = Math.min(mapWidth - 1, Math.floor((x * mapWidth) / width));
      const colour = at(palette, at(map, my * mapWidth + mx, 'class map'), 'palette');
      const o = (y * width + x) * 3;
      colour.forEach((paint, c) => {
        out[o + c] = Math.round(at(rgb, o + c, 'picture RGB') * (1 - opacity) + paint * opacity);
      });
    }
  }
  return out;
}
