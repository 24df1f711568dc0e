/**
 * Kernel benchmark: per kernel at 1280x720 and 1920x1080 (-> 512x512 model input), one thread (synchronous
 * calls), SIMD and scalar paths, plus the alignment figures against the golden fixtures. Writes
 * bench/results/kernels.json. Run: `npm run bench:kernels` (= `tsx bench/kernels.ts`).
 *
 * Timings are medians over repeated runs on a shared machine: compare them as ratios within one run. The
 * load average is recorded before and after (other processes may share the cores). `threads: 2` rows split one
 * call over two threads: compare their wall time (process CPU then counts both threads).
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../server/util/atomic-write.ts';
import { at } from '../server/util/checked-access.ts';
import * as k from '../server/kernels/index.ts';
import type { ClassMap, Nv12Image } from '../server/stages/frame-context.ts';
import { loadF32, loadGrey, loadRgb, MEAN, STD } from '../test/kernels/fixtures.ts';
import { decodeNv12Exact, diffStats } from '../test/kernels/reference.ts';

const QUICK = process.argv.includes('--quick');
const OUT = fileURLToPath(new URL('./results/kernels.json', import.meta.url));

interface Timing {
  /** Wall clock. */
  medianMs: number;
  minMs: number;
  /** Process CPU time (user + system) of the same runs: less sensitive to other processes taking the cores. */
  cpuMedianMs: number;
  cpuMinMs: number;
  runs: number;
}

function time(fn: () => unknown, budgetMs = QUICK ? 150 : 600, minRuns = 5): Timing {
  fn(); // warm caches and lazily built tables
  const wall: number[] = [];
  const cpu: number[] = [];
  const start = performance.now();
  while (wall.length < minRuns || (performance.now() - start < budgetMs && wall.length < 400)) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 1000) / 1000;
  // wall and cpu get one sample per run, and the loop runs at least once unless minRuns is 0.
  const sample = (sorted: number[], i: number, what: string) => r(at(sorted, i, `${what} samples`));
  return {
    medianMs: sample(wall, wall.length >> 1, 'wall'),
    minMs: sample(wall, 0, 'wall'),
    cpuMedianMs: sample(cpu, cpu.length >> 1, 'cpu'),
    cpuMinMs: sample(cpu, 0, 'cpu'),
    runs: wall.length,
  };
}

const TENSOR = { width: 512, height: 512, mean: MEAN, std: STD };
const PALETTE = Uint8Array.from({ length: 150 * 3 }, (_, i) => (i * 67 + 13) & 255);

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const isa = k.kernelInfo().isa;
  const results: Record<string, unknown> = {};
  const alignment: Record<string, unknown> = {};
  const logits = loadF32('coffee_1280x720.logits.f32.gz');
  const argBase = { layout: 'NCHW' as const, classes: 150, height: 128, width: 128 };

  for (const name of ['coffee_1280x720', 'rocket_1920x1080']) {
    const { rgb, width, height } = await loadRgb(name);
    const label = `${width}x${height}`;
    const golden = loadF32(`${name}.pixel_values.f32.gz`);
    const color = { matrix: 'bt601', range: 'limited' } as const;
    const nv12: Nv12Image = k.rgbToNv12(rgb, width, height, color);
    const row: Record<string, unknown> = {};
    for (const simd of [true, false]) {
      const tag = simd ? isa : 'scalar';
      row[`nv12ToTensor_512 (${tag})`] = time(() => k.nv12ToTensor(nv12, { ...TENSOR, color, simd }));
      row[`nv12ToTensor_512_bilinearChroma (${tag})`] = time(() => k.nv12ToTensor(nv12, { ...TENSOR, color, chroma: 'bilinear', simd }));
      row[`rgbToTensor_512 (${tag})`] = time(() => k.rgbToTensor(rgb, width, height, { ...TENSOR, simd }));
      row[`resizeNv12_512 (${tag})`] = time(() => k.resizeNv12(nv12, 512, 512, { simd }));
      row[`nv12ToRgb_same_size (${tag})`] = time(() => k.nv12ToRgb(nv12, { color, simd }));
      row[`resizeRgb_512 (${tag})`] = time(() => k.resizeRgb(rgb, width, height, 512, 512, { simd }));
      for (const mode of ['lowres', 'exact', 'boundary'] as const) {
        row[`argmax_${mode}_150x128x128_to_${label} (${tag})`] = time(
          () => k.argmax(logits, { ...argBase, mode, outWidth: width, outHeight: height, simd }),
          mode === 'exact' ? (QUICK ? 300 : 1500) : undefined,
          mode === 'exact' ? 3 : 5,
        );
      }
      if (simd) {
        const nhwc = new Float32Array(logits.length);
        const plane = 128 * 128;
        for (let j = 0; j < logits.length; j++) nhwc[(j % plane) * 150 + Math.floor(j / plane)] = at(logits, j, 'logits');
        // Symmetric per-tensor int8 quantisation covering the logits' range, as a quantised model would output.
        let maxAbs = 0;
        for (const v of logits) maxAbs = Math.max(maxAbs, Math.abs(v));
        const qScale = maxAbs / 127;
        const int8 = Int8Array.from(logits, (v) => Math.round(v / qScale));
        const size = { outWidth: width, outHeight: height };
        row[`argmax_boundary_NHWC_float_to_${label} (${tag})`] = time(() => k.argmax(nhwc, { ...argBase, layout: 'NHWC', mode: 'boundary', ...size }));
        row[`argmax_boundary_int8_per_tensor_to_${label} (${tag})`] = time(() => k.argmax(int8, { ...argBase, mode: 'boundary', scales: [qScale], ...size }));
        row[`argmax_lowres_int8_per_tensor_128 (${tag})`] = time(() => k.argmax(int8, { ...argBase, mode: 'lowres', scales: [qScale] }));
        const out = new Float32Array(3 * 512 * 512);
        row[`nv12ToTensor_512_reused_out (${tag})`] = time(() => k.nv12ToTensor(nv12, { ...TENSOR, color, out }));
        row[`nv12ToTensor_512_reused_out_2threads (${tag})`] = time(() => k.nv12ToTensor(nv12, { ...TENSOR, color, out, threads: 2 }));
        const mapOut = new Uint8Array(width * height);
        const boundary = { ...argBase, mode: 'boundary' as const, outWidth: width, outHeight: height, out: mapOut };
        row[`argmax_boundary_150x128x128_to_${label}_reused_out (${tag})`] = time(() => k.argmax(logits, boundary));
        row[`argmax_boundary_150x128x128_to_${label}_reused_out_2threads (${tag})`] = time(() => k.argmax(logits, { ...boundary, threads: 2 }));
      }
      const map: ClassMap = k.argmax(logits, { ...argBase, mode: 'boundary', outWidth: width, outHeight: height }).classMap;
      row[`overlayNv12_with_histogram (${tag})`] = time(() => k.overlayNv12(nv12, map, PALETTE, { opacity: 0.5, color, simd }));
      row[`overlayNv12_map128 (${tag})`] = time(() =>
        k.overlayNv12(nv12, k.argmax(logits, { ...argBase, mode: 'lowres' }).classMap, PALETTE, { opacity: 0.5, color, simd }),
      );
      row[`overlayRgb_with_histogram (${tag})`] = time(() => k.overlayRgb(rgb, width, height, map, PALETTE, { opacity: 0.5, simd }));
    }
    const exact = row[`argmax_exact_150x128x128_to_${label} (${isa})`] as Timing;
    const boundary = row[`argmax_boundary_150x128x128_to_${label} (${isa})`] as Timing;
    row['boundary_over_exact_wall'] = Math.round((boundary.medianMs / exact.medianMs) * 10000) / 10000;
    row['boundary_over_exact_cpu'] = Math.round((boundary.cpuMedianMs / exact.cpuMedianMs) * 10000) / 10000;
    results[label] = row;

    // Alignment: the RGB path vs the processor's tensors, and the NV12 path vs the floor measured here.
    const ref = diffStats(k.rgbToTensor(rgb, width, height, TENSOR), golden);
    const nv: Record<string, unknown> = {};
    for (const range of ['limited', 'full'] as const) {
      const c = { matrix: 'bt601', range } as const;
      const img = k.rgbToNv12(rgb, width, height, c);
      const floor = diffStats(k.rgbToTensor(decodeNv12Exact(img, c), width, height, TENSOR), golden).mean;
      const got = diffStats(k.nv12ToTensor(img, { ...TENSOR, color: c }), golden).mean;
      const bilinear = diffStats(k.nv12ToTensor(img, { ...TENSOR, color: c, chroma: 'bilinear' }), golden).mean;
      const wrong = diffStats(k.nv12ToTensor(img, { ...TENSOR, color: { matrix: 'bt601', range: range === 'full' ? 'limited' : 'full' } }), golden).mean;
      nv[range] = { floorMean: +floor.toFixed(5), nv12ToTensorMean: +got.toFixed(5), ratioToFloor: floor > 0 ? +(got / floor).toFixed(4) : null, bilinearChromaMean: +bilinear.toFixed(5), wrongRangeMean: +wrong.toFixed(5) };
    }
    alignment[name] = { rgbToTensor: { max: ref.max, mean: ref.mean, bitIdentical: ref.equal }, nv12ToTensor_bt601: nv };
  }

  for (const name of ['astronaut', 'coffee_1280x720']) {
    const l = loadF32(`${name}.logits.f32.gz`);
    const cm = await loadGrey(`${name}.classmap`);
    const agree = (m: ClassMap) => {
      let s = 0;
      for (let i = 0; i < cm.data.length; i++) if (m.data[i] === cm.data[i]) s++;
      return +(s / cm.data.length).toFixed(6);
    };
    const size = { outWidth: cm.width, outHeight: cm.height };
    alignment[`${name}.classmap`] = {
      lowresNearest: agree(k.argmax(l, { ...argBase, mode: 'lowres', ...size }).classMap),
      exact: agree(k.argmax(l, { ...argBase, mode: 'exact', ...size }).classMap),
      boundary: agree(k.argmax(l, { ...argBase, mode: 'boundary', ...size }).classMap),
    };
  }

  const report = {
    command: `tsx bench/kernels.ts${QUICK ? ' --quick' : ''}`,
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model, cores: os.cpus().length, loadAverageBefore: loadBefore, loadAverageAfter: os.loadavg(),
      node: process.version, arch: process.arch,
    },
    isa,
    note: 'synchronous calls, one thread unless the key says 2threads; wall and process-CPU medians/minima of repeated runs; other processes may share the cores (see loadAverageBefore/After), so compare figures as ratios within one run',
    timings: results,
    alignment,
  };
  await writeFileAtomic(OUT, JSON.stringify(report, null, 1) + '\n');
  console.log(JSON.stringify(report, null, 1));
}

await main();
