/**
 * What the viewer costs in Chromium: CPU of the browser's whole process tree from /proc (the figure that counts on
 * a kiosk sharing the board with the pipeline), and where it goes, from a Chrome DevTools Protocol trace (thread
 * time by kind of work, all processes) plus a sampling profile of the page's JavaScript grouped by source file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';

const USER_HZ = 100;

/** How every headless measurement and test starts Debian's Chromium (software rendering, no background traffic). */
export const HEADLESS_CHROMIUM_ARGS: readonly string[] = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Debian's Chromium, or the one SEGSTREAM_CHROMIUM names. */
export function chromiumPath(): string {
  return process.env.SEGSTREAM_CHROMIUM ?? '/usr/bin/chromium';
}

interface ProcCpu {
  pid: number;
  ppid: number;
  /** Chromium's --type= (renderer, gpu-process, utility, zygote...), `browser` for the one without. */
  type: string;
  cpuS: number;
}

function readProcCpu(): ProcCpu[] {
  const out: ProcCpu[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      const type = /--type=([\w-]+)/.exec(cmdline)?.[1] ?? 'browser';
      out.push({ pid: Number(name), ppid: Number(fields[1]), type, cpuS: (Number(fields[11]) + Number(fields[12])) / USER_HZ });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** The processes of the tree rooted at `rootPid` (itself included). */
function processTree(rootPid: number): ProcCpu[] {
  const all = readProcCpu();
  const children = new Map<number, ProcCpu[]>();
  for (const p of all) {
    const list = children.get(p.ppid) ?? [];
    list.push(p);
    children.set(p.ppid, list);
  }
  const root = all.find((p) => p.pid === rootPid);
  const out: ProcCpu[] = [];
  const stack = root ? [root] : [];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p.pid) ?? []));
  }
  return out;
}

export interface BrowserCpu {
  /** CPU seconds (user + system) of the whole tree over the window. */
  totalS: number;
  /** The same split by Chromium process type. */
  byTypeS: Record<string, number>;
  wallS: number;
}

/**
 * CPU of a Chromium process tree between start() and stop(), read from /proc/PID/stat. A process that ends
 * inside the window loses what it used after start (its parent reaps it); Chromium keeps its processes for the
 * page's life, so this does not happen in a steady viewer.
 */
export class BrowserCpuMeter {
  private startCpu = new Map<number, number>();
  private startWall = 0;

  constructor(readonly rootPid: number) {
    if (!Number.isInteger(rootPid) || rootPid <= 0) throw new RangeError(`browser pid: expected a positive integer, got ${rootPid}`);
  }

  start(): void {
    this.startCpu = new Map(processTree(this.rootPid).map((p) => [p.pid, p.cpuS]));
    this.startWall = performance.now();
  }

  stop(): BrowserCpu {
    const byTypeS: Record<string, number> = {};
    let totalS = 0;
    for (const p of processTree(this.rootPid)) {
      const used = p.cpuS - (this.startCpu.get(p.pid) ?? 0);
      byTypeS[p.type] = (byTypeS[p.type] ?? 0) + used;
      totalS += used;
    }
    return { totalS, byTypeS, wallS: (performance.now() - this.startWall) / 1000 };
  }
}

/** The Chromium that playwright launched: its browser process is a direct child of this process. */
export function launchedChromiumPid(parentPid = process.pid): number | null {
  const candidates = readProcCpu().filter((p) => p.ppid === parentPid && p.type === 'browser');
  for (const p of candidates) {
    try {
      if (/chrom/i.test(readFileSync(`/proc/${p.pid}/comm`, 'utf8'))) return p.pid;
    } catch {
      // Gone.
    }
  }
  return null;
}

// ---- trace ------------------------------------------------------------------------------------------------------

/** The kinds of work the breakdown reports, in thread CPU ms. */
export const WORK_KINDS = ['image decode', 'class-map inflate', 'script', 'gc', 'layout/style', 'paint/raster', 'composite/gpu', 'other'] as const;
export type WorkKind = (typeof WORK_KINDS)[number];

const KIND_BY_NAME: [RegExp, WorkKind][] = [
  [/decode/i, 'image decode'],
  [/Inflate/, 'class-map inflate'],
  [/^(MinorGC|MajorGC|V8\.GC|BlinkGC|GCEvent|V8\.Scavenge)|Garbage|Scavenge|MarkCompact|Sweep/, 'gc'],
  [/^(FunctionCall|EvaluateScript|v8\.|V8\.|TimerFire|FireAnimationFrame|RunMicrotasks|EventDispatch|XHR|ParseHTML|CompileScript|CompileCode|ProfileCall|RunTask)/, 'script'],
  [/Layout|Style|LayoutTree|PrePaint|Layerize|HitTest|UpdateLayer|IntersectionObserver|ResizeObserver/, 'layout/style'],
  [/Paint|Raster|Canvas|Skia|Draw|Image/, 'paint/raster'],
  [/Commit|Composit|Gpu|GPU|Swap|Display|Frame|Surface|Viz|CC|cc::/, 'composite/gpu'],
];

export function workKindOf(eventName: string): WorkKind {
  for (const [pattern, kind] of KIND_BY_NAME) if (pattern.test(eventName)) return kind;
  return 'other';
}

export interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  tdur?: number;
  tts?: number;
  pid: number;
  tid: number;
  cat?: string;
}

export interface TraceBreakdown {
  /** Thread CPU ms per kind (self time of each traced slice, all processes). */
  byKindMs: Record<WorkKind, number>;
  /** The largest slice names by self time: what the kinds were made of. */
  topNames: { name: string; kind: WorkKind; ms: number }[];
}

/**
 * Self time of every complete ('X') slice, per thread, nested slices subtracted from their parents. Thread time
 * (tdur) is used where the slice has it, so a thread descheduled inside a slice is not counted as busy.
 */
export function summariseTrace(events: readonly TraceEvent[]): TraceBreakdown {
  const byThread = new Map<string, TraceEvent[]>();
  for (const e of events) {
    if (e.ph !== 'X' || typeof e.dur !== 'number') continue;
    const key = `${e.pid}:${e.tid}`;
    const list = byThread.get(key) ?? [];
    list.push(e);
    byThread.set(key, list);
  }
  const selfByName = new Map<string, number>();
  for (const list of byThread.values()) {
    list.sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
    const stack: { end: number; name: string; self: number }[] = [];
    const close = (until: number) => {
      while (stack.length > 0 && stack[stack.length - 1]!.end <= until) {
        const done = stack.pop()!;
        selfByName.set(done.name, (selfByName.get(done.name) ?? 0) + Math.max(0, done.self));
      }
    };
    for (const e of list) {
      close(e.ts);
      const cost = typeof e.tdur === 'number' ? e.tdur : e.dur!;
      const parent = stack[stack.length - 1];
      if (parent) parent.self -= cost;
      stack.push({ end: e.ts + e.dur!, name: e.name, self: cost });
    }
    close(Infinity);
  }
  const byKindMs = Object.fromEntries(WORK_KINDS.map((k) => [k, 0])) as Record<WorkKind, number>;
  const topNames: TraceBreakdown['topNames'] = [];
  for (const [name, us] of selfByName) {
    const kind = workKindOf(name);
    byKindMs[kind] += us / 1000;
    topNames.push({ name, kind, ms: us / 1000 });
  }
  topNames.sort((a, b) => b.ms - a.ms);
  return { byKindMs, topNames: topNames.slice(0, 15) };
}

// ---- script profile -----------------------------------------------------------------------------------------------

/**
 * Groups of the viewer's own JavaScript, by the source file a sampled function comes from. `frame decode/inflate`
 * is the frame pipeline: the message split, the JPEG handed to the decoder (the decode itself runs off the main
 * thread: "image decode" in the trace) and the class-map inflate.
 */
export const SCRIPT_GROUPS = ['frame decode/inflate', 'overlay/mask', 'smoothing', 'svelte updates', 'viewer state', 'connection', 'gc', 'native/other'] as const;
export type ScriptGroup = (typeof SCRIPT_GROUPS)[number];

export function scriptGroupOf(source: string): ScriptGroup {
  if (/class-map-smoothing/.test(source)) return 'smoothing';
  if (/class-map\.ts|frame-pipeline|frame-message|png\.ts/.test(source)) return 'frame decode/inflate';
  if (/render\/|StreamView/.test(source)) return 'overlay/mask';
  if (/node_modules\/svelte|\.svelte$/.test(source)) return 'svelte updates';
  if (/viewer\.svelte|legend|stats\.ts/.test(source)) return 'viewer state';
  if (/connection|backoff/.test(source)) return 'connection';
  return 'native/other';
}

interface CpuProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

/** Where a generated position came from; null when there is no source map for it. */
export type SourceResolver = (url: string, line: number, column: number) => string | null;

/** Resolves positions in the page's scripts through their source maps (fetched once per script). */
export async function sourceMapResolver(urls: readonly string[]): Promise<SourceResolver> {
  // A development dependency (through vite): without it, or without maps, samples stay unattributed.
  let mapping: typeof import('@jridgewell/trace-mapping');
  try {
    mapping = await import('@jridgewell/trace-mapping');
  } catch {
    return () => null;
  }
  const { TraceMap, originalPositionFor } = mapping;
  const maps = new Map<string, InstanceType<typeof TraceMap>>();
  for (const url of new Set(urls)) {
    if (!/^https?:.*\.js$/.test(url)) continue;
    try {
      const response = await fetch(`${url}.map`);
      if (response.ok) maps.set(url, new TraceMap(await response.text()));
    } catch {
      // No map: those samples stay unattributed.
    }
  }
  return (url, line, column) => {
    const map = maps.get(url);
    if (!map) return null;
    return originalPositionFor(map, { line: line + 1, column }).source;
  };
}

export interface ScriptBreakdown {
  /** Sampled ms of the page's main thread per group; idle samples are left out. */
  byGroupMs: Record<ScriptGroup, number>;
  /** Whether samples could be traced back to source files (needs the build's source maps). */
  attributed: boolean;
  topFunctions: { name: string; source: string; ms: number }[];
}

export function summariseProfile(profile: CpuProfile, resolve: SourceResolver): ScriptBreakdown {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
  // Builtins (Blob, createImageBitmap, drawImage...) have no script of their own: charge them to the nearest
  // calling function that has one, so the time lands in the group that made the call.
  const callerWithScript = (id: number): CpuProfileNode | undefined => {
    for (let at = parents.get(id); at !== undefined; at = parents.get(at)) {
      const node = nodes.get(at);
      if (node && node.callFrame.url !== '') return node;
    }
    return undefined;
  };
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // Each delta is the time before its sample; it is charged to the sample that follows, as DevTools does.
  for (let i = 0; i < samples.length; i++) selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + Math.max(0, deltas[i] ?? 0));
  const byGroupMs = Object.fromEntries(SCRIPT_GROUPS.map((g) => [g, 0])) as Record<ScriptGroup, number>;
  const byFunction = new Map<string, { name: string; source: string; ms: number }>();
  let attributed = false;
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') continue;
    let group: ScriptGroup;
    let source = frame.url;
    let where = frame;
    if (frame.url === '' && !frame.functionName.startsWith('(')) where = callerWithScript(id)?.callFrame ?? frame;
    if (frame.functionName === '(garbage collector)') group = 'gc';
    else {
      const original = where.url ? resolve(where.url, where.lineNumber, where.columnNumber) : null;
      if (original !== null) {
        attributed = true;
        source = original;
      }
      group = scriptGroupOf(source);
    }
    byGroupMs[group] += us / 1000;
    const key = `${frame.functionName}@${source}`;
    const name = (frame.functionName || '(anonymous)') + (where !== frame ? ` in ${where.functionName || '(anonymous)'}` : '');
    const entry = byFunction.get(key) ?? { name, source: source.replace(/^.*\/(client|server|node_modules)\//, '$1/'), ms: 0 };
    entry.ms += us / 1000;
    byFunction.set(key, entry);
  }
  const topFunctions = [...byFunction.values()].sort((a, b) => b.ms - a.ms).slice(0, 12);
  return { byGroupMs, attributed, topFunctions };
}

// ---- recording --------------------------------------------------------------------------------------------------

const TRACE_CATEGORIES = [
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'disabled-by-default-devtools.timeline.frame',
  'toplevel',
  'v8',
  'v8.execute',
  'blink',
  'cc',
  'gpu',
  'viz',
  'skia',
];

export interface ViewerCostRecording {
  /** Stops tracing and profiling and returns the breakdowns, `frames` = frames drawn in the window. */
  stop(frames: number): Promise<ViewerCostBreakdown>;
}

export interface ViewerCostBreakdown {
  frames: number;
  /** Thread CPU ms per drawn frame by kind (trace, all Chromium processes). */
  tracePerFrameMs: Record<WorkKind, number>;
  traceTop: TraceBreakdown['topNames'];
  /** Sampled main-thread ms per drawn frame by script group (profile of the page). */
  scriptPerFrameMs: Record<ScriptGroup, number>;
  scriptAttributed: boolean;
  scriptTop: ScriptBreakdown['topFunctions'];
}

/**
 * Starts a DevTools trace (all processes) and a sampling profile of the page. Both cost CPU themselves, so the
 * bench measures /proc CPU in a window without them and records the breakdown in a separate window.
 */
export async function recordViewerCost(page: Page): Promise<ViewerCostRecording> {
  const cdp = await page.context().newCDPSession(page);
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (message) => {
    // The protocol types events as string maps; they are trace events (name, ph, ts, dur, pid, tid...).
    for (const e of message.value as unknown as TraceEvent[]) events.push(e);
  });
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  await cdp.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: TRACE_CATEGORIES, excludedCategories: ['*'] } });
  await cdp.send('Profiler.start');
  return {
    async stop(frames: number): Promise<ViewerCostBreakdown> {
      const { profile } = (await cdp.send('Profiler.stop')) as { profile: CpuProfile };
      const complete = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
      await cdp.send('Tracing.end');
      await complete;
      await cdp.detach().catch(() => undefined);
      const resolver = await sourceMapResolver(profile.nodes.map((n) => n.callFrame.url).filter((u) => u !== ''));
      const trace = summariseTrace(events);
      const script = summariseProfile(profile, resolver);
      const per = <K extends string>(record: Record<K, number>): Record<K, number> =>
        Object.fromEntries(Object.entries(record).map(([k, v]) => [k, frames > 0 ? (v as number) / frames : NaN])) as Record<K, number>;
      return {
        frames,
        tracePerFrameMs: per(trace.byKindMs),
        traceTop: trace.topNames.map((t) => ({ ...t, ms: frames > 0 ? t.ms / frames : NaN })),
        scriptPerFrameMs: per(script.byGroupMs),
        scriptAttributed: script.attributed,
        scriptTop: script.topFunctions.map((t) => ({ ...t, ms: frames > 0 ? t.ms / frames : NaN })),
      };
    },
  };
}

/** One line per breakdown, for terminals: `name 1.2` pairs in ms per drawn frame, largest first. */
export function formatBreakdown(record: Record<string, number>): string {
  return Object.entries(record)
    .filter(([, ms]) => ms >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => `${name} ${ms.toFixed(1)}`)
    .join(', ');
}

/** The report's lines about the viewer: CPU per drawn frame, by process type, and the breakdown when recorded. */
export function browserCostLines(msPerFrame: number | null, byType: Record<string, number> | null, breakdown: ViewerCostBreakdown | null): string[] {
  if (msPerFrame === null) return [];
  const lines = [`viewer:       Chromium ${msPerFrame.toFixed(1)} ms CPU per drawn frame (all its processes, /proc)${byType ? `: ${formatBreakdown(byType)}` : ''}`];
  if (breakdown !== null) {
    lines.push(`              traced over ${breakdown.frames} frames after the last round, thread ms/frame: ${formatBreakdown(breakdown.tracePerFrameMs)}`);
    lines.push(`              page script, sampled ms/frame${breakdown.scriptAttributed ? '' : ' (no source maps: groups unattributed)'}: ${formatBreakdown(breakdown.scriptPerFrameMs)}`);
  }
  return lines;
}
