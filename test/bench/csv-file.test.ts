// The running CSV table: created with its header, appended to, an older (shorter) header lengthened with the old
// rows kept, and a file with other columns refused before anything is written.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendCsvRows, csvHeaderProblem } from '../../server/bench/csv-file.ts';
import { CSV_COLUMNS } from '../../server/cli/bench.ts';
import { tempDir } from '../helpers/media.ts';

describe('appendCsvRows', () => {
  it('creates the file with its header, then appends', async () => {
    const file = path.join(tempDir('csv'), 'sub', 't.csv');
    await appendCsvRows(file, ['1,2,3'], ['a', 'b', 'c']);
    await appendCsvRows(file, ['4,5,6', '7,8,9'], ['a', 'b', 'c']);
    expect(readFileSync(file, 'utf8')).toBe('a,b,c\n1,2,3\n4,5,6\n7,8,9\n');
  });

  it("lengthens an older segstream header (bench/results/bench.csv before the rounds) and keeps its rows", async () => {
    const file = path.join(tempDir('csv'), 'bench.csv');
    const old = CSV_COLUMNS.slice(0, CSV_COLUMNS.indexOf('rssGrowthMiB') + 1);
    expect(old.length).toBeLessThan(CSV_COLUMNS.length);
    const oldRow = old.map((_, i) => String(i)).join(',');
    writeFileSync(file, `${old.join(',')}\n${oldRow}`); // no newline at the end, as a hand-edited file may be
    const row = CSV_COLUMNS.map(() => 'x').join(',');
    await appendCsvRows(file, [row], CSV_COLUMNS);
    expect(readFileSync(file, 'utf8').split('\n')).toEqual([CSV_COLUMNS.join(','), oldRow, row, '']);
  });

  it('refuses a file with other columns, naming the file and the first column that differs, and leaves it alone', async () => {
    const file = path.join(tempDir('csv'), 'other.csv');
    writeFileSync(file, 'when,fps\n1,2\n');
    const expected = `${file} is not a segstream bench table (column 1 is "when", expected "startedAt"): name another --csv file`;
    expect(await csvHeaderProblem(file, CSV_COLUMNS)).toBe(expected);
    await expect(appendCsvRows(file, ['x'], CSV_COLUMNS)).rejects.toThrow(expected);
    expect(readFileSync(file, 'utf8')).toBe('when,fps\n1,2\n');
    writeFileSync(file, `${CSV_COLUMNS.join(',')},extra\n`);
    expect(await csvHeaderProblem(file, CSV_COLUMNS)).toBe(`${file} is not a segstream bench table (it has ${CSV_COLUMNS.length + 1} columns, more than the ${CSV_COLUMNS.length} segstream bench writes): name another --csv file`);
    expect(await csvHeaderProblem(path.join(tempDir('csv'), 'none.csv'), CSV_COLUMNS)).toBeNull();
  });
});
