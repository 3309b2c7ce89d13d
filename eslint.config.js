// ESLint flat config. Besides the usual TypeScript checks, it enforces the layer directions of
// docs/SPEC.md (LAY-1..4) with `no-restricted-imports`: an import that crosses a layer the wrong
// way is a lint error. test/lint-layers.test.ts proves each rule fires.
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules.filter((m) => !m.startsWith('_')), 'node:*'];
const nativeAndNode = ['better-sqlite3', 'ws', 'pino', 'pino-pretty', 'commander'];

const layer = (name, { message, paths = [], patterns = [] }) => ({
  name,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: paths.map((p) => ({ name: p, message })),
        patterns: patterns.map((group) => ({ group: [group], message })),
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'native/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // Property tests run with a fixed seed (FC_SEED to explore): fast-check comes from the helper
    // that sets it. (no-restricted-syntax, so the layer rules' no-restricted-imports stay whole.)
    files: ['**/*.{ts,tsx}'],
    ignores: ['test/support/fast-check.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value='fast-check']",
          message: "Import fast-check from test/support/fast-check.ts (it fixes the seed; FC_SEED overrides it), not from 'fast-check'.",
        },
      ],
    },
  },
  {
    files: ['src-shared/**/*.ts'],
    ignores: ['src-shared/**/*.test.ts'],
    languageOptions: { globals: {} },
    ...layer('LAY-1 src-shared', {
      message: 'LAY-1: src-shared runs everywhere; it may not import Node, Electron, native modules or another layer.',
      paths: [...nodeBuiltins, 'electron', 'react', 'react-dom', ...nativeAndNode],
      patterns: ['node:*', '**/src-main/**', '**/src-server/**', '**/src-renderer/**', 'electron/*'],
    }),
  },
  {
    files: ['src-renderer/**/*.{ts,tsx}'],
    ignores: ['src-renderer/**/*.test.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    ...layer('LAY-2 src-renderer', {
      message: 'LAY-2: the renderer talks to the terminal only through the TerminalApi; no Node, Electron, src-main or src-server.',
      paths: [...nodeBuiltins, 'electron', ...nativeAndNode],
      patterns: ['node:*', '**/src-main/**', '**/src-server/**', 'electron/*'],
    }),
  },
  {
    files: ['src-server/**/*.ts'],
    ignores: ['src-server/**/*.test.ts'],
    ...layer('LAY-3 src-server', {
      message: 'LAY-3: the server may import src-shared only; never electron, src-main or src-renderer.',
      paths: ['electron', 'react', 'react-dom'],
      patterns: ['**/src-main/**', '**/src-renderer/**', 'electron/*'],
    }),
  },
  {
    files: ['src-main/core/**/*.ts'],
    ignores: ['src-main/**/*.test.ts'],
    ...layer('LAY-4 src-main/core', {
      message: 'LAY-4: the terminal core runs in plain Node; no electron, src-server or src-renderer.',
      paths: ['electron', 'react', 'react-dom'],
      patterns: ['**/src-server/**', '**/src-renderer/**', 'electron/*'],
    }),
  },
  {
    files: ['src-main/electron/**/*.ts'],
    ...layer('LAY-4 src-main/electron', {
      message: 'LAY-4: the Electron shell may not import src-server or src-renderer.',
      patterns: ['**/src-server/**', '**/src-renderer/**'],
    }),
  },
);
