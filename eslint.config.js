// ESLint (flat config): JavaScript's and typescript-eslint's recommended rules for the server, tests and tools;
// eslint-plugin-svelte's for the viewer; and the boundaries the layout relies on.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'native/**/build/**', 'node_modules/**', '.cache/**', 'test-artifacts/**', 'segstream-bench/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Svelte's rules for the viewer only (some of them misread CommonJS files elsewhere).
  ...svelte.configs['flat/recommended'].map((c) => ({ ...c, files: c.files ?? ['client/**/*.svelte', 'client/**/*.svelte.ts'] })),
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Test doubles and parsers handle `unknown` input on purpose; `any` stays forbidden.
      '@typescript-eslint/no-explicit-any': 'error',
      'no-control-regex': 'off',
    },
  },
  {
    // CommonJS helpers run by node-gyp's build (native/bpu/detect-hb-dnn.cjs).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['client/**/*.ts', 'client/**/*.svelte'],
    languageOptions: { globals: { ...globals.browser }, parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
    rules: {
      // The viewer reaches the server only through the wire protocol.
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/server/**', 'node:*'], message: 'the viewer imports only $protocol from the server side' }] }],
    },
  },
  {
    files: ['server/protocol/**/*.ts'],
    languageOptions: { globals: { ...globals['shared-node-browser'] } },
    rules: {
      // Shared with the browser: no Node modules, nothing outside this folder.
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', '../*'], message: 'server/protocol is Node-free and self-contained (the viewer imports it)' }] }],
      'no-restricted-globals': ['error', 'process', 'Buffer', 'require', '__dirname'],
    },
  },
);
