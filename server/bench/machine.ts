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

/** CPU seconds (user + system) used so far by a process and all its descendants, from /proc. */
export function processTreeCpuSeconds(rootPid: number): number {
  const ticks = 100; // USER_HZ on Linux
  const children = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return NaN;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      cpu.set(Number(e), (Number(fields[11]) + Number(fields[12])) / ticks);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid)!.push(Number(e));
    } catch {
      // The process ended while we looked.
    }
  }
  let total = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop()!;
    total += cpu.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** Pids of the direct children of `parentPid` whose command name (/proc/PID/comm) matches `name`. */
export function childPidsNamed(parentPid: number, name: RegExp): number[] {
  const found: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parentPid && name.test(comm)) found.push(Number(e));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}
