/** Snapshot downloads: the frame with overlay as PNG, and the class map as an indexed PNG of class ids. */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { diagnostics, openViewer, waitForFrames, writeAtomically, ARTIFACTS, type ServerUnderTest, useViewerFixture } from './harness.ts';
import { at, first } from '../../server/util/checked-access.ts';
import { blendOverlay, mockClassMap, mockFrameRgb, mockPalette } from './mock-scene.ts';

let server: ServerUnderTest;
let browser: Browser;
useViewerFixture((s, b) => {
  server = s;
  browser = b;
});

async function download(page: Page, testid: string): Promise<{ name: string; bytes: Buffer }> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.locator(`[data-testid="${testid}"]`).click()]);
  const path = await file.path();
  const bytes = await readFile(path);
  await writeAtomically(join(ARTIFACTS, `snapshot-${file.suggestedFilename()}`), bytes);
  return { name: file.suggestedFilename(), bytes };
}

/** Reads PNG chunks: enough to check the stored samples are class ids (indexed, filter 0 rows). */
function pngChunks(bytes: Buffer): Map<string, Buffer[]> {
  const chunks = new Map<string, Buffer[]>();
  for (let offset = 8; offset < bytes.length; ) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    chunks.set(type, [...(chunks.get(type) ?? []), bytes.subarray(offset + 8, offset + 8 + length)]);
    offset += 12 + length;
  }
  return chunks;
}

describe('snapshots', () => {
  it('downloads the frame with overlay and the class map as PNGs', async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    const { page, context, errors } = await openViewer(browser, server, '?opacity=0.55');
    try {
      await waitForFrames(page, 3);
      const header = (await diagnostics(page)).lastHeader!;

      const frame = await download(page, 'snapshot-frame');
      expect(frame.name).toMatch(/^segstream-\d+-.*-frame\.png$/);
      const frameInfo = await sharp(frame.bytes).metadata();
      expect(frameInfo.format).toBe('png');
      expect([frameInfo.width, frameInfo.height]).toEqual([header.width, header.height]);

      const map = await download(page, 'snapshot-classmap');
      expect(map.name).toMatch(/^segstream-\d+-.*-classmap\.png$/);
      const mapInfo = await sharp(map.bytes).metadata();
      expect([mapInfo.width, mapInfo.height]).toEqual([header.classMap.width, header.classMap.height]);
      const chunks = pngChunks(map.bytes);
      const ihdr = first(chunks.get('IHDR') ?? [], 'IHDR chunks of the class map PNG');
      const colourType = ihdr[9];
      const text = chunks.get('tEXt')?.[0]?.toString('latin1') ?? '';
      expect(text.startsWith('segstream:classes\0')).toBe(true);
      const names = JSON.parse(text.slice('segstream:classes\0'.length)) as string[];
      expect(names.length).toBeGreaterThan(0);

      if (colourType === 3) {
        // Indexed: the samples are the class ids and the palette is the model's palette.
        const width = header.classMap.width;
        const raw = inflateSync(Buffer.concat(chunks.get('IDAT')!));
        const ids = new Uint8Array(width * header.classMap.height);
        for (let y = 0; y < header.classMap.height; y++) {
          expect(raw[y * (width + 1)]).toBe(0); // filter type none
          ids.set(raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)), y * width);
        }
        const present = new Set(ids);
        for (const id of present) expect(id).toBeLessThan(names.length);
        if (server.mock) {
          const id = Number(/^segstream-(\d+)-/.exec(map.name)![1]);
          const [mapWidth, mapHeight] = server.mock.mapSize;
          const expected = mockClassMap(id, mapWidth, mapHeight, server.mock.scene);
          expect(Buffer.from(ids).equals(Buffer.from(expected))).toBe(true);
          // Decoded as colours, every pixel has its class's palette colour.
          const rgb = await sharp(map.bytes).removeAlpha().raw().toBuffer();
          const palette = mockPalette();
          let wrong = 0;
          for (const [i, classId] of expected.entries()) {
            const c = at(palette, classId, 'mock palette');
            if (rgb[i * 3] !== c[0] || rgb[i * 3 + 1] !== c[1] || rgb[i * 3 + 2] !== c[2]) wrong++;
          }
          expect(wrong).toBe(0);
          expect(mapInfo.isPalette).toBe(true);
        }
      } else {
        expect(colourType).toBe(0); // 16-bit grey for more than 256 classes
        expect(ihdr[8]).toBe(16);
      }

      if (server.mock) {
        // The frame PNG is the JPEG with the palette blended at the chosen opacity (up to JPEG error).
        const id = Number(/^segstream-(\d+)-/.exec(frame.name)![1]);
        const [w, h] = server.mock.frameSize;
        const [mw, mh] = server.mock.mapSize;
        const ids = mockClassMap(id, mw, mh, server.mock.scene);
        const expected = blendOverlay(mockFrameRgb(id, w, h, ids, mw, mh, server.mock.scene), w, h, ids, mw, mh, mockPalette(), 0.55);
        const actual = await sharp(frame.bytes).removeAlpha().raw().toBuffer();
        let sum = 0;
        for (const [i, value] of expected.entries()) sum += Math.abs(at(actual, i, 'frame PNG pixels') - value);
        expect(sum / expected.length).toBeLessThan(4);
      }
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
