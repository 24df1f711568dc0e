/**
 * The running CSV table of `segstream bench --csv FILE` (bench/datasheet.sh keeps bench/results/bench.csv): rows
 * appended under one header. Columns are only ever added at the end, so a file written by an older segstream
 * gets the longer header with its next row and keeps its old, shorter rows (their missing cells read as empty).
 */
import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { InputError } from '../util/errors.ts';

async function readOrEmpty(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/**
 * Why rows with `columns` cannot go into `file` (its header is not `columns` or a start of them), or null when they
 * can (also when the file does not exist yet).
 */
export async function csvHeaderProblem(file: string, columns: readonly string[]): Promise<string | null> {
  const text = await readOrEmpty(file);
  if (text.trim() === '') return null;
  const header = text.slice(0, text.indexOf('\n') === -1 ? text.length : text.indexOf('\n')).replace(/\r$/, '').split(',');
  const differs = header.findIndex((c, i) => i < columns.length && c !== columns[i]);
  if (differs === -1 && header.length <= columns.length) return null;
  const where = differs === -1 ? `it has ${header.length} columns, more than the ${columns.length} segstream bench writes` : `column ${differs + 1} is "${header[differs]}", expected "${columns[differs]}"`;
  return `${file} is not a segstream bench table (${where}): name another --csv file`;
}

/** Appends rows under `columns`, creating the file or lengthening an older header first; the file is replaced atomically. */
export async function appendCsvRows(file: string, rows: readonly string[], columns: readonly string[]): Promise<void> {
  const problem = await csvHeaderProblem(file, columns);
  if (problem) throw new InputError(problem);
  const header = columns.join(',');
  let text = await readOrEmpty(file);
  if (text.trim() === '') text = `${header}\n`;
  else {
    const end = text.indexOf('\n');
    text = end === -1 ? `${header}\n` : `${header}${text.slice(end)}`;
    if (!text.endsWith('\n')) text += '\n';
  }
  await writeFileAtomic(file, `${text}${rows.map((r) => `${r}\n`).join('')}`);
}
