import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// One config for the viewer build (client/ -> dist/client) and for vitest (test/**).
export default defineConfig({
  root: 'client',
  base: './',
  plugins: [svelte()],
  // The viewer imports the Node-free wire protocol shared with the server as `$protocol`.
  resolve: { alias: { $protocol: fileURLToPath(new URL('./server/protocol/index.ts', import.meta.url)) } },
  build: {
    outDir: '../dist/client',
    emptyOutDir: true,
    target: 'es2022',
  },
  test: {
    root: '.',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
