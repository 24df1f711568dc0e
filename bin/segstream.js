#!/usr/bin/env node
// Entry point: the project runs its TypeScript through tsx (no build step for the server).
// Each pending appsink pull holds a libuv pool thread (shared with sharp, zlib and fs): give the pool room.
process.env.UV_THREADPOOL_SIZE ??= '8';
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../server/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
