/**
 * `segstream doctor`: what this machine can run and why not. Backends (ONNX Runtime loads? a board BPU, and
 * why not; separately, segstream's hb_dnn test double, which is never reported as a BPU), the GStreamer version
 * and the elements segstream's pipelines use, and the cameras (/dev/video* with their V4L2 names).
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { bpuAvailability, type BpuAvailability } from '../stages/infer/bpu-backend.ts';
import { bpuAddonPath } from '../stages/infer/bpu/native.ts';

/** Elements segstream's pipelines use (pipelines/). */
export const GST_ELEMENTS = ['videotestsrc', 'v4l2src', 'decodebin', 'rtspsrc', 'videoconvert', 'videoscale', 'jpegdec', 'appsink'] as const;

/** Where the BPU build looks for the board's hb_dnn (mirrors native/bpu/detect-hb-dnn.cjs). */
const DEFAULT_HB_INCLUDE = '/usr/include';
export const DEFAULT_HB_LIB_DIRS = ['/usr/lib/hbbpu', '/usr/lib', '/usr/lib/aarch64-linux-gnu', '/usr/hobot/lib'];

export interface DoctorOptions {
  /** gst-inspect-1.0 executable (default: from PATH). */
  gstInspect?: string;
  /** Directory holding video device nodes (default /dev). */
  devDir?: string;
  /** sysfs directory of V4L2 devices (default /sys/class/video4linux). */
  sysVideoDir?: string;
  /** Directory expected to hold dnn/hb_dnn.h (default: SEGSTREAM_HB_DNN_INCLUDE or /usr/include). */
  hbIncludeDir?: string;
  /** Directories searched for libdnn.so (default: SEGSTREAM_HB_DNN_LIB or the board's library directories). */
  hbLibDirs?: string[];
  /** Skip importing onnxruntime-node (it takes a moment and ~300 MB of address space). */
  skipOnnx?: boolean;
}

export interface OnnxStatus {
  available: boolean;
  version: string | null;
  reason: string;
}

/**
 * The board BPU. `available` only when the addon is built against the board's hb_dnn; `mode` says what the
 * addon was built against ('test-double' is not a BPU: see BpuDoubleStatus).
 */
export interface BpuStatus extends BpuAvailability {
  addonPath: string;
  /** dnn/hb_dnn.h of the board, as the build would look for it now. */
  boardHeader: { path: string; found: boolean };
  libdnn: { searched: string[]; found: string | null };
  arch: string;
  aarch64: boolean;
  /** One line: why the board BPU is or is not usable here. */
  board: string;
}

/** segstream's hb_dnn test double: runs the BPU code paths on synthetic outputs; never a BPU. */
export interface BpuDoubleStatus {
  available: boolean;
  reason: string;
}

export interface GstElementStatus {
  name: string;
  found: boolean;
  plugin: string | null;
}

export interface GstStatus {
  available: boolean;
  version: string | null;
  reason: string;
  elements: GstElementStatus[];
}

export interface CameraInfo {
  device: string;
  name: string | null;
}

export interface DoctorReport {
  platform: { os: string; arch: string; node: string };
  backends: { onnx: OnnxStatus; bpu: BpuStatus; 'bpu-double': BpuDoubleStatus };
  gstreamer: GstStatus;
  cameras: CameraInfo[];
  /** Where cameras were looked for, and anything that stopped the search. */
  camerasNote: string;
}

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string; error?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 15000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const e = error as (NodeJS.ErrnoException & { code?: number | string }) | null;
      resolve({
        code: e ? (typeof e.code === 'number' ? e.code : -1) : 0,
        stdout: String(stdout),
        stderr: String(stderr),
        ...(e && typeof e.code === 'string' ? { error: e } : {}),
      });
    });
  });
}

async function checkOnnx(skip: boolean): Promise<OnnxStatus> {
  if (skip) return { available: false, version: null, reason: 'not checked (skipped)' };
  try {
    const ort = (await import('onnxruntime-node')) as unknown as { env?: { versions?: { node?: string } }; default?: { env?: { versions?: { node?: string } } } };
    const version = ort.env?.versions?.node ?? ort.default?.env?.versions?.node ?? readOnnxVersion();
    return { available: true, version, reason: `onnxruntime-node ${version ?? '(unknown version)'} loads (CPU)` };
  } catch (err) {
    return { available: false, version: null, reason: `onnxruntime-node does not load: ${(err as Error).message.split('\n')[0]}` };
  }
}

function readOnnxVersion(): string | null {
  try {
    const req = createRequire(import.meta.url);
    return (req('onnxruntime-node/package.json') as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

function checkBpu(o: DoctorOptions, availability: BpuAvailability): BpuStatus {
  const includeDir = o.hbIncludeDir ?? process.env.SEGSTREAM_HB_DNN_INCLUDE ?? DEFAULT_HB_INCLUDE;
  const header = path.join(includeDir, 'dnn', 'hb_dnn.h');
  const libDirs = o.hbLibDirs ?? (process.env.SEGSTREAM_HB_DNN_LIB ? [process.env.SEGSTREAM_HB_DNN_LIB] : DEFAULT_HB_LIB_DIRS);
  const libDir = libDirs.find((d) => existsSync(path.join(d, 'libdnn.so')));
  const lib = libDir ? path.join(libDir, 'libdnn.so') : null;
  const arch = os.arch();
  const aarch64 = arch === 'arm64';
  const headerFound = existsSync(header);
  const missing: string[] = [];
  if (!headerFound) missing.push(`no ${header}`);
  if (!lib) missing.push(`no libdnn.so in ${libDirs.join(', ')}`);
  if (!aarch64) missing.push(`architecture ${arch}, the RDK X5 is aarch64`);
  let board: string;
  if (availability.mode === 'board') {
    board = 'the addon is built against the board hb_dnn';
  } else if (missing.length === 0) {
    board = 'board headers and libdnn are present: rebuild with `npx node-gyp rebuild --directory native/bpu` to use them';
  } else {
    board = `no board BPU here: ${missing.join('; ')}`;
  }
  const onBoard = availability.mode === 'board';
  const reason = onBoard
    ? availability.reason
    : availability.mode === 'test-double'
      ? 'no BPU: the addon is built against segstream\'s hb_dnn test double (reported as bpu-double), not a board\'s libdnn'
      : availability.reason;
  return {
    ...availability,
    available: onBoard && availability.available,
    reason,
    addonPath: bpuAddonPath(),
    boardHeader: { path: header, found: headerFound },
    libdnn: { searched: libDirs, found: lib },
    arch: aarch64 ? 'aarch64' : arch,
    aarch64,
    board,
  };
}

function checkBpuDouble(availability: BpuAvailability): BpuDoubleStatus {
  if (availability.mode === 'test-double') return { available: true, reason: availability.reason };
  if (availability.mode === 'board') return { available: false, reason: 'the addon is built against the board\'s hb_dnn, not the test double' };
  return { available: false, reason: availability.reason };
}

async function checkGst(o: DoctorOptions): Promise<GstStatus> {
  const exe = o.gstInspect ?? 'gst-inspect-1.0';
  const v = await run(exe, ['--version']);
  if (v.error || v.code !== 0) {
    const why = v.error?.code === 'ENOENT' ? `${exe} not found (install gstreamer1.0-tools)` : `${exe} --version failed: ${(v.stderr || v.error?.message || '').trim()}`;
    return { available: false, version: null, reason: why, elements: GST_ELEMENTS.map((name) => ({ name, found: false, plugin: null })) };
  }
  const version = /GStreamer\s+(\d+\.\d+(?:\.\d+)*)/.exec(v.stdout)?.[1] ?? /version\s+(\d+\.\d+(?:\.\d+)*)/.exec(v.stdout)?.[1] ?? null;
  const elements = await Promise.all(
    GST_ELEMENTS.map(async (name): Promise<GstElementStatus> => {
      const r = await run(exe, [name]);
      if (r.code !== 0) return { name, found: false, plugin: null };
      const plugin = /Plugin Details:\s*\n\s*Name\s+(\S+)/.exec(r.stdout)?.[1] ?? null;
      return { name, found: true, plugin };
    }),
  );
  const missing = elements.filter((e) => !e.found).map((e) => e.name);
  return {
    available: true,
    version,
    reason: missing.length === 0 ? 'all elements segstream uses are installed' : `missing elements: ${missing.join(', ')}`,
    elements,
  };
}

async function findCameras(o: DoctorOptions): Promise<{ cameras: CameraInfo[]; note: string }> {
  const devDir = o.devDir ?? '/dev';
  const sysDir = o.sysVideoDir ?? '/sys/class/video4linux';
  let entries: string[];
  try {
    entries = await fs.readdir(devDir);
  } catch (err) {
    return { cameras: [], note: `cannot list ${devDir}: ${(err as Error).message}` };
  }
  const nodes = entries.filter((e) => /^video\d+$/.test(e)).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  const cameras = await Promise.all(
    nodes.map(async (node): Promise<CameraInfo> => {
      let name: string | null;
      try {
        name = (await fs.readFile(path.join(sysDir, node, 'name'), 'utf8')).trim() || null;
      } catch {
        name = null;
      }
      return { device: path.join(devDir, node), name };
    }),
  );
  return { cameras, note: nodes.length === 0 ? `no video* device nodes in ${devDir}` : `${nodes.length} video device node(s) in ${devDir}` };
}

export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const [onnx, gstreamer, cams] = await Promise.all([checkOnnx(options.skipOnnx ?? false), checkGst(options), findCameras(options)]);
  const availability = bpuAvailability();
  return {
    platform: { os: `${os.type()} ${os.release()}`, arch: os.arch(), node: process.version },
    backends: { onnx, bpu: checkBpu(options, availability), 'bpu-double': checkBpuDouble(availability) },
    gstreamer,
    cameras: cams.cameras,
    camerasNote: cams.note,
  };
}

export function formatDoctor(r: DoctorReport): string {
  const lines: string[] = [];
  const row = (label: string, text: string) => lines.push(`${label.padEnd(15)} ${text}`);
  const bpu = r.backends.bpu;
  row('platform', `${r.platform.os}, ${bpu.arch}, node ${r.platform.node}`);
  lines.push('backends');
  row('  onnx', `${r.backends.onnx.available ? 'available' : 'unavailable'}: ${r.backends.onnx.reason}`);
  const mode = bpu.available ? 'available (board)' : bpu.mode === 'test-double' ? 'test double only' : 'unavailable';
  row('  bpu', `${mode}: ${bpu.reason}`);
  row('', bpu.board);
  row('', `board header ${bpu.boardHeader.path}: ${bpu.boardHeader.found ? 'found' : 'missing'}; libdnn.so: ${bpu.libdnn.found ?? 'missing'}`);
  const double = r.backends['bpu-double'];
  row('  bpu-double', `${double.available ? 'built (synthetic outputs, not a BPU)' : 'not in use'}: ${double.reason}`);
  row('gstreamer', r.gstreamer.available ? `${r.gstreamer.version ?? 'unknown version'}: ${r.gstreamer.reason}` : `unavailable: ${r.gstreamer.reason}`);
  for (const e of r.gstreamer.elements) row(`  ${e.name}`, e.found ? `ok${e.plugin ? ` (plugin ${e.plugin})` : ''}` : 'missing');
  if (r.cameras.length === 0) {
    row('cameras', `none: ${r.camerasNote}`);
  } else {
    row('cameras', r.camerasNote);
    for (const c of r.cameras) row(`  ${c.device}`, c.name ?? '(no name in sysfs)');
  }
  return `${lines.join('\n')}\n`;
}
