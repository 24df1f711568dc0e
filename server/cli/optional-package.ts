/**
 * Packages some options need that a production install leaves out (devDependencies: `npm ci --omit=dev`).
 * Checked before a command starts its work, so `bench --peers` on a board fails at once with what to install
 * instead of after a full measurement with "Cannot find package".
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RuntimeError } from '../util/errors.ts';
import { packageRoot } from '../util/package-root.ts';

function declaredVersion(name: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
    return pkg.devDependencies?.[name];
  } catch {
    return undefined;
  }
}

/** Imports `name`, or throws a RuntimeError naming the option that needs it and how to install it. */
export async function importOptional<T = unknown>(name: string, neededBy: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const missing = (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && e.message.includes(name);
    if (!missing) throw err;
    const version = declaredVersion(name);
    throw new RuntimeError(
      `${neededBy} needs the package ${name}, a development dependency that a production install ` +
        `(npm ci --omit=dev) leaves out: install it with \`npm install --no-save ${name}${version ? `@${version}` : ''}\`, or run without ${neededBy}`,
    );
  }
}
