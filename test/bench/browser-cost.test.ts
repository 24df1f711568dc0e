/**
 * The viewer-cost measurement: trace self times, profile grouping, /proc CPU of a process tree; and the whole
 * recording against a real headless Chromium decoding and drawing a JPEG (its own trace event names).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { chromium } from 'playwright-core';
import {
  BrowserCpuMeter,
  launchedChromiumPid,
  recordViewerCost,
  scriptGroupOf,
  summariseProfile,
  summariseTrace,
  workKindOf,
  type CpuProfile,
  type TraceEvent,
} from '../../server/bench/browser-cost.ts';

const CHROMIUM = process.env.SEGSTREAM_CHROMIUM ?? '/usr/bin/chromium';

function slice(name: string, ts: number, dur: number, tdur?: number, tid = 1): TraceEvent {
  return { name, ph: 'X', ts, dur, ...(tdur === undefined ? {} : { tdur }), pid: 1, tid };
}

describe('summariseTrace', () => {
  it('charges each slice its own time, children subtracted, thread time preferred', () => {
    const breakdown = summariseTrace([
      slice('RunTask', 0, 10_000, 9_000),
      slice('FunctionCall', 1_000, 4_000, 4_000),
      slice('Decode Image', 2_000, 1_000, 1_000),
      slice('Paint', 6_000, 2_000),
      // Another thread: not nested in the task above although its times overlap.
      slice('Layout', 500, 4_000, 3_500, 2),
      { name: 'instant', ph: 'I', ts: 0, pid: 1, tid: 1 },
    ]);
    expect(breakdown.byKindMs['image decode']).toBeCloseTo(1, 6);
    // FunctionCall 4 ms minus its child's 1 ms, plus RunTask's 9 - 4 - 2 = 3 ms of its own.
    expect(breakdown.byKindMs.script).toBeCloseTo(6, 6);
    expect(breakdown.byKindMs['paint/raster']).toBeCloseTo(2, 6);
    expect(breakdown.byKindMs['layout/style']).toBeCloseTo(3.5, 6);
    expect(breakdown.topNames[0]).toEqual({ name: 'Layout', kind: 'layout/style', ms: 3.5 });
  });

  it('names kinds by Chromium slice names, without taking "RenderingContext" for GC', () => {
    expect(workKindOf('CanvasRenderingContext2D::FinalizeFrame')).toBe('paint/raster');
    expect(workKindOf('MinorGC')).toBe('gc');
    expect(workKindOf('V8.GC_SCAVENGER')).toBe('gc');
    expect(workKindOf('DecompressionStream Inflate')).toBe('class-map inflate');
    expect(workKindOf('Document::recalcStyle')).toBe('layout/style');
    expect(workKindOf('Receive mojo message')).toBe('other');
  });
});

describe('summariseProfile', () => {
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 }, children: [2, 5, 6] },
      { id: 2, callFrame: { functionName: 'decode', url: 'http://h/assets/index.js', lineNumber: 0, columnNumber: 10 }, children: [3] },
      { id: 3, callFrame: { functionName: 'Blob', url: '', lineNumber: -1, columnNumber: -1 }, children: [] },
      { id: 4, callFrame: { functionName: 'paintMask', url: 'http://h/assets/index.js', lineNumber: 0, columnNumber: 99 }, children: [] },
      { id: 5, callFrame: { functionName: '(garbage collector)', url: '', lineNumber: -1, columnNumber: -1 }, children: [] },
      { id: 6, callFrame: { functionName: '(idle)', url: '', lineNumber: -1, columnNumber: -1 }, children: [4] },
    ],
    samples: [3, 3, 4, 5, 6],
    timeDeltas: [1000, 2000, 500, 250, 9000],
  };
  const sources: Record<number, string> = { 10: '../client/src/lib/frame-pipeline.ts', 99: '../client/src/lib/render/canvas2d.ts' };

  it('groups samples by the source file of the function, builtins by their caller, idle left out', () => {
    const result = summariseProfile(profile, (_url, _line, column) => sources[column] ?? null);
    expect(result.attributed).toBe(true);
    expect(result.byGroupMs['frame decode/inflate']).toBeCloseTo(3, 6);
    expect(result.byGroupMs['overlay/mask']).toBeCloseTo(0.5, 6);
    expect(result.byGroupMs.gc).toBeCloseTo(0.25, 6);
    expect(Object.values(result.byGroupMs).reduce((a, b) => a + b, 0)).toBeCloseTo(3.75, 6);
    expect(result.topFunctions[0]!.name).toBe('Blob in decode');
  });

  it('without source maps everything lands in native/other and says so', () => {
    const result = summariseProfile(profile, () => null);
    expect(result.attributed).toBe(false);
    expect(result.byGroupMs['native/other']).toBeCloseTo(3.5, 6);
  });

  it('maps source files to the groups the report names', () => {
    expect(scriptGroupOf('../server/protocol/class-map-smoothing.ts')).toBe('smoothing');
    expect(scriptGroupOf('../client/src/lib/class-map.ts')).toBe('frame decode/inflate');
    expect(scriptGroupOf('../node_modules/svelte/src/internal/client/runtime.js')).toBe('svelte updates');
    expect(scriptGroupOf('../client/src/components/Legend.svelte')).toBe('svelte updates');
    expect(scriptGroupOf('../client/src/components/StreamView.svelte')).toBe('overlay/mask');
  });
});

describe('BrowserCpuMeter', () => {
  it('counts the CPU of a child process in the tree, as the kernel reports it', async () => {
    const meter = new BrowserCpuMeter(process.pid);
    meter.start();
    // A child that keeps a core busy for a while: only /proc can see its CPU from here.
    const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 600; while (Date.now() < end) {}'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    const during = meter.stop();
    await new Promise((r) => child.on('exit', r));
    expect(during.totalS).toBeGreaterThan(0);
    expect(during.byTypeS.browser).toBeCloseTo(during.totalS, 6); // no --type= in node's command line
    expect(() => new BrowserCpuMeter(0)).toThrow(/positive integer, got 0/);
  });
});

describe('recordViewerCost in Chromium', () => {
  // Not skipped when Chromium is missing: setup.sh installs it, and a silent skip would check nothing.
  beforeAll(() => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run ./scripts/setup.sh or set SEGSTREAM_CHROMIUM`);
  });
  it('finds the launched Chromium and sees its JPEG decodes and canvas draws in the trace', async () => {
    const jpeg = await sharp({ create: { width: 640, height: 360, channels: 3, background: { r: 200, g: 40, b: 90 } } }).jpeg().toBuffer();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    try {
      const pid = launchedChromiumPid();
      expect(pid).not.toBeNull();
      const page = await browser.newPage();
      await page.setContent('<canvas width="640" height="360"></canvas>');
      const meter = new BrowserCpuMeter(pid!);
      meter.start();
      const recording = await recordViewerCost(page);
      const drawn = await page.evaluate(async (bytes) => {
        const ctx = document.querySelector('canvas')!.getContext('2d')!;
        const data = new Uint8Array(bytes);
        for (let i = 0; i < 10; i++) {
          const image = await createImageBitmap(new Blob([data], { type: 'image/jpeg' }));
          ctx.drawImage(image, 0, 0);
          image.close();
          await new Promise((r) => requestAnimationFrame(r));
        }
        return 10;
      }, [...jpeg]);
      const breakdown = await recording.stop(drawn);
      const cpu = meter.stop();
      expect(cpu.totalS).toBeGreaterThan(0);
      expect(Object.keys(cpu.byTypeS)).toContain('renderer');
      expect(breakdown.frames).toBe(10);
      expect(breakdown.tracePerFrameMs['image decode']).toBeGreaterThan(0);
      expect(breakdown.traceTop.length).toBeGreaterThan(0);
      expect(Object.values(breakdown.scriptPerFrameMs).every((ms) => ms >= 0)).toBe(true);
    } finally {
      await browser.close();
    }
  });
});
