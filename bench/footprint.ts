/**
 * Where `serve`'s memory goes: runs the server in this process on its default (1280x720 test pattern through the
 * SegFormer-B0-shaped demo model at 512), waits for warm-up, then reads /proc/self/smaps (resident memory by
 * mapping: anonymous heap, ONNX Runtime, libvips, GStreamer, ...) and Node's own counters, once a sample period.
 *
 *   npx tsx bench/footprint.ts [--memory-arena on|off] [--frames 30] [--samples 5] [--every 10] [--size 1280x720] [--out FILE]
 *
 * RSS moves within each inference (the runtime allocates and frees), so each sample also reports the RSS min,
 * median and max over one reading per 250 ms in the period before it. Writes JSON (default
 * bench/results/footprint.json) and prints a table. Linux only (/proc).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SegStreamApp } from '../server/app/app.ts';
import { defaultConfig } from '../server/app/config.ts';
import { writeFileAtomic } from '../server/util/atomic-write.ts';
import { summarize } from '../server/util/stats.ts';
import { at } from '../server/util/checked-access.ts';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '30' },
    samples: { type: 'string', default: '5' },
    every: { type: 'string', default: '10' },
    size: { type: 'string', default: '1280x720' },
    out: { type: 'string', default: 'bench/results/footprint.json' },
    'memory-arena': { type: 'string', default: 'on' },
  },
});
const MB = 1024 * 1024;

/** Resident kB by what is mapped: a shared library's file name, or a kind of anonymous memory. */
export function residentByMapping(smaps: string): Map<string, number> {
  const out = new Map<string, number>();
  let name = '';
  for (const line of smaps.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const file = at(head, 1, 'head').trim();
      name = file === '' ? '[anon]' : file.startsWith('[') ? file : path.basename(file).replace(/\.so(\.[\d.]+)?$/, '.so');
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out.set(name, (out.get(name) ?? 0) + Number(rss[1]));
  }
  return out;
}

function threads(): number {
  return Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
}

async function main(): Promise<void> {
  const [width, height] = values.size.split('x').map(Number) as [number, number];
  const config = defaultConfig(process.cwd());
  config.server.port = 0;
  if (values['memory-arena'] !== 'on' && values['memory-arena'] !== 'off') throw new Error(`--memory-arena: expected on or off, got ${values['memory-arena']}`);
  config.inference.memoryArena = values['memory-arena'] === 'on';
  const test = config.sources.test!;
  test.spec = { ...test.spec, width, height } as typeof test.spec;
  const app = new SegStreamApp({ config, log: () => {} });
  let rendered = 0;
  app.onFrameRendered = () => rendered++;
  await app.start();
  const warm = Number(values.frames);
  while (rendered < warm) await new Promise((r) => setTimeout(r, 200));
  const samples: Record<string, unknown>[] = [];
  for (let i = 0; i < Number(values.samples); i++) {
    const readings: number[] = [];
    const end = performance.now() + Number(values.every) * 1000;
    while (performance.now() < end) {
      readings.push(process.memoryUsage.rss() / MB);
      await new Promise((r) => setTimeout(r, 250));
    }
    const period = summarize(readings);
    const byMapping = residentByMapping(readFileSync('/proc/self/smaps', 'utf8'));
    const mem = process.memoryUsage();
    const top = [...byMapping.entries()].sort((a, b) => b[1] - a[1]);
    samples.push({
      framesRendered: rendered,
      rssMB: +(mem.rss / MB).toFixed(1),
      rssOverPeriodMB: { min: +Math.min(...readings).toFixed(1), p50: +period.p50.toFixed(1), max: +period.max.toFixed(1) },
      heapUsedMB: +(mem.heapUsed / MB).toFixed(1),
      externalMB: +(mem.external / MB).toFixed(1),
      arrayBuffersMB: +(mem.arrayBuffers / MB).toFixed(1),
      threads: threads(),
      residentMBByMapping: Object.fromEntries(top.filter(([, kb]) => kb >= 1024).map(([n, kb]) => [n, +(kb / 1024).toFixed(1)])),
    });
  }
  await app.stop();
  const last = samples.at(-1)!;
  const period = last.rssOverPeriodMB as { min: number; p50: number; max: number };
  console.log(`rss ${last.rssMB} MB (over the last ${values.every} s: min ${period.min}, median ${period.p50}, max ${period.max}) after ${last.framesRendered} frames, ${last.threads} threads; resident by mapping (MB):`);
  for (const [n, mb] of Object.entries(last.residentMBByMapping as Record<string, number>)) console.log(`  ${String(mb).padStart(7)}  ${n}`);
  await writeFileAtomic(values.out, `${JSON.stringify({ size: values.size, memoryArena: config.inference.memoryArena, warmupFrames: warm, samples }, null, 2)}\n`);
  console.log(`wrote ${values.out}`);
  process.exit(0);
}

await main();
