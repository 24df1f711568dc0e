/** Self-checking file contents for the atomic-write crash test: any truncation or mixing is detectable. */

/** Version N: a header with N and the body length, 1.5-6 MB of N-dependent bytes, and a trailer with N. */
export function versionContent(version: number): Buffer {
  const bodyLength = 1_500_000 + ((version * 7919) % 4_500_000);
  const header = Buffer.from(`BEGIN ${version} ${bodyLength}\n`);
  const body = Buffer.alloc(bodyLength, 97 + (version % 26));
  const trailer = Buffer.from(`\nEND ${version}\n`);
  return Buffer.concat([header, body, trailer]);
}

/** The version a file holds if it is one complete version; otherwise why it is not. */
export function checkVersion(data: Buffer): { version: number } | { problem: string } {
  const newline = data.indexOf(10);
  const m = /^BEGIN (\d+) (\d+)$/.exec(data.subarray(0, Math.max(newline, 0)).toString());
  if (!m) return { problem: `no header (${data.length} bytes)` };
  const version = Number(m[1]);
  const expected = versionContent(version);
  if (data.length !== expected.length) return { problem: `version ${version}: ${data.length} bytes, expected ${expected.length}` };
  if (!data.equals(expected)) return { problem: `version ${version}: content differs` };
  return { version };
}

/** Checks appended lines: the header, then line S, S+1, ... each complete. Returns the last line number. */
export function checkLines(text: string): { last: number } | { problem: string } {
  if (text.length > 0 && !text.endsWith('\n')) return { problem: 'file does not end with a newline (truncated line)' };
  const lines = text.split('\n').slice(0, -1);
  if (lines[0] !== 'header: atomic append test') return { problem: `first line is ${JSON.stringify(lines[0]?.slice(0, 40))}` };
  let last = 0;
  for (const [i, line] of lines.slice(1).entries()) {
    const m = /^line (\d+) (y+)$/.exec(line);
    if (!m) return { problem: `line ${i + 2} is malformed: ${JSON.stringify(line.slice(0, 40))}` };
    const n = Number(m[1]);
    if (m[2]!.length !== 2000 + (n % 7) * 300) return { problem: `line ${n} is truncated` };
    if (n !== last + 1) return { problem: `line ${n} follows line ${last}` };
    last = n;
  }
  return { last };
}
