import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Writes a file so that a crash never leaves it truncated: the bytes go to a temporary file in the same
 * directory, are flushed, and the temporary file is renamed over the target (atomic on POSIX).
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => {});
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** Appends one line to a file (creating it), replacing the file atomically so a crash never truncates it. */
export async function appendLineAtomic(target: string, line: string, header?: string): Promise<void> {
  let existing = '';
  try {
    existing = await fs.readFile(target, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (header) existing = header.endsWith('\n') ? header : `${header}\n`;
  }
  if (existing.length > 0 && !existing.endsWith('\n')) existing += '\n';
  await writeFileAtomic(target, `${existing}${line}\n`);
}
