#!/usr/bin/env node
// Entry point: the project runs its TypeScript through tsx (no build step for the server).
// Each pending appsink pull holds a libuv pool thread (shared with sharp, zlib and fs): give the pool room.
process.env.UV_THREADPOOL_SIZE ??= '8';
const { register } = await import('tsx/esm/api');
register();
// Before anything else runs: an uncaught exception or a signal ends the process within a bounded time
// (running servers stopped first), so a supervisor can restart it. See server/app/process-guard.ts.
const { installProcessGuard } = await import('../server/app/process-guard.ts');
const guard = installProcessGuard();
const { main } = await import('../server/cli/main.ts');
guard.mainReturned(await main(process.argv.slice(2)));
