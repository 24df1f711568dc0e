/**
 * Dropped frames are named by where they were dropped, the same way in frame headers, /metrics and the HUD's
 * source (a slowed model on the real pipeline: the 30 fps source outpaces it, so newer frames replace waiting
 * ones at the model; rendering keeps up, so nothing is dropped there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/media.ts';
import { baseConfig, connectViewer, metric, metricsText, startApp, waitFor, type TestApp } from '../reliability/helpers.ts';
import { at } from '../../server/util/checked-access.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startApp(baseConfig(), tempDir('drops'), { faults: { delayMs: 150 } });
});
afterAll(async () => {
  await t?.stop();
});

describe('drop counters', () => {
  it('count model-busy drops as inference-busy, in the header and in /metrics alike', async () => {
    const v = await connectViewer(t.port);
    await waitFor(() => v.frames.length >= 8, '8 frames');
    v.ws.close();
    const last = v.frames.at(-1)!;
    // About 30 fps offered to a model taking >= 150 ms: most frames are replaced while waiting.
    expect(last.dropped.inferenceBusy).toBeGreaterThan(10);
    expect(last.dropped.renderBusy).toBe(0);
    const text = await metricsText(t.port);
    expect(metric(text, 'segstream_frames_dropped_total', { where: 'inference-busy' })).toBeGreaterThanOrEqual(last.dropped.inferenceBusy);
    expect(metric(text, 'segstream_frames_dropped_total', { where: 'render-busy' })).toBe(0);
    expect(t.app.counters.inferenceBusyDropped).toBeGreaterThanOrEqual(last.dropped.inferenceBusy);
    // Headers only ever count up.
    for (let i = 1; i < v.frames.length; i++) expect(at(v.frames, i, 'v.frames').dropped.inferenceBusy).toBeGreaterThanOrEqual(at(v.frames, i - 1, 'v.frames').dropped.inferenceBusy);
  });
});
