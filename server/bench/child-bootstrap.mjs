// Entry for the bench's TypeScript child processes (model-only.ts): registers tsx in this process, then loads the
// module whose URL is the first argument (like server/util/worker-bootstrap.mjs does for worker threads).
const { register } = await import('tsx/esm/api');
register();
await import(process.argv[2]);
