// The linter of the whole repository (`npm run lint`, run by .ci/run): the recommended
// rules of ESLint and typescript-eslint, and a function length limit. Long functions
// were where the node core grew hard to read; tests are exempt (a scenario reads best
// top to bottom). Formatting is Prettier's (`npm run format:check`), not the linter's.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'tmp/**', '**/.nx/**', 'data/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'max-lines-per-function': ['error', { max: 70, skipBlankLines: true, skipComments: true, IIFEs: false }],
      // `_`-prefixed names are the house's way to say "unused on purpose".
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['apps/node/src/visualizer/**/*.js', 'apps/loadgen/src/report-html-client.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/test/**', '**/*.test.ts'],
    rules: { 'max-lines-per-function': 'off' },
  },
);
