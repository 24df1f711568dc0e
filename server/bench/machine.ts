import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

const require = createRequire(import.meta.url);

/** Facts that make benchmark runs comparable across machines. */
export interface MachineFacts {
  cpuModel: string;
  cores: number;
  arch: string;
  memGiB: number;
  os: string;
  node: string;
  onnxruntime: string;
  gstreamer: string;
  segstream: string;
}

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function machineFacts(): MachineFacts {
  let gstreamer = 'unknown';
  try {
    gstreamer = /version (\S+)/.exec(execFileSync('gst-launch-1.0', ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  } catch {
    // GStreamer tools missing: reported as unknown.
  }
  let osName = `${os.type()} ${os.release()}`;
  try {
    osName = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? osName;
  } catch {
    // Not Linux: keep the kernel name.
  }
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    arch: process.arch,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    os: osName,
    node: process.version,
    onnxruntime: packageVersion('onnxruntime-node'),
    gstreamer,
    segstream: (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version,
  };
}

interface ProcEntry {
  pid: number;
  ppid: number;
  /** Command name (/proc/PID/comm). */
  comm: string;
  /** CPU seconds (user + system) so far. */
  cpuS: number;
}

/** Every process visible in /proc (empty where there is no /proc). */
function procEntries(): ProcEntry[] {
  const ticks = 100; // USER_HZ on Linux
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: ProcEntry[] = [];
  for (const e of names) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // The command name is in parentheses and may itself contain spaces or parentheses.
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      out.push({ pid: Number(e), ppid: Number(fields[1]), comm: stat.slice(stat.indexOf('(') + 1, close), cpuS: (Number(fields[11]) + Number(fields[12])) / ticks });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** CPU seconds (user + system) used so far by a process and all its descendants, from /proc. */
export function processTreeCpuSeconds(rootPid: number): number {
  const children = new Map<number, ProcEntry[]>();
  let root: ProcEntry | undefined;
  for (const p of procEntries()) {
    if (p.pid === rootPid) root = p;
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid)!.push(p);
  }
  let total = 0;
  const stack = root ? [root] : [];
  while (stack.length) {
    const p = stack.pop()!;
    total += p.cpuS;
    stack.push(...(children.get(p.pid) ?? []));
  }
  return total;
}

/** Pids of the direct children of `parentPid` whose command name (/proc/PID/comm) matches `name`. */
export function childPidsNamed(parentPid: number, name: RegExp): number[] {
  return procEntries().filter((p) => p.ppid === parentPid && name.test(p.comm)).map((p) => p.pid);
}
