/**
 * Child process for atomic-write.test.ts: rewrites one file (or appends lines to it) in a loop with the project's
 * atomic writers until it is killed, printing `done N` after each write has returned (so the parent knows which
 * version was committed before it sent SIGKILL).
 *
 *   node --import tsx test/reliability/atomic-writer-child.ts write|append TARGET START
 */
import { appendLineAtomic, writeFileAtomic } from '../../server/util/atomic-write.ts';
import { versionContent } from './atomic-content.ts';

const [mode, target, startArg] = process.argv.slice(2);
let version = Number(startArg);
if (!target || !Number.isInteger(version) || (mode !== 'write' && mode !== 'append')) {
  process.stderr.write('usage: atomic-writer-child.ts write|append TARGET START\n');
  process.exit(2);
}
for (;;) {
  if (mode === 'write') await writeFileAtomic(target, versionContent(version));
  else await appendLineAtomic(target, `line ${version} ${'y'.repeat(2000 + (version % 7) * 300)}`, 'header: atomic append test');
  process.stdout.write(`done ${version}\n`);
  version++;
}
