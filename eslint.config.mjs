// @ts-check
import eslint from '@eslint/js';
import eslintConfigPrettier from 'eslint-config-prettier/flat';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['dist/', 'node_modules/', 'coverage/', '.vfl/', '.scratch/'],
  },
  eslint.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // tsconfig.json includes apps, libs, migrations, scripts and test, so specs are type-checked too.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // `async` on implementations of Promise-returning interfaces (PayloadCodec, CkksEngine, audit sinks, Nest hooks)
      // is on purpose: a synchronous throw becomes a rejection, as callers expect; removing it would change behaviour.
      '@typescript-eslint/require-await': 'off',
      // A leading underscore marks a deliberately unused name; `{ dropped: _x, ...rest }` is how fields are omitted.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // Tests assert on untyped values by design: supertest's res.body, JSON.parse of logs, and jest's asymmetric
    // matchers (expect.any(), expect.objectContaining()) are all typed `any`. no-unsafe-argument/-call stay on.
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', '**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The dashboard is plain browser ES modules served as-is (no build step), linted without type information.
    files: ['apps/coordinator/src/dashboard/static/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: { ...globals.browser, Chart: 'readonly' },
    },
  },
  {
    // Config files at the root (jest.config.js is CommonJS, this file an ES module).
    files: ['*.js', '*.mjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['*.js'],
    languageOptions: { sourceType: 'commonjs' },
  },
  // Last: turn off every stylistic rule that prettier owns, so the two never disagree.
  eslintConfigPrettier,
);
