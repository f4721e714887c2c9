import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/** A path from `prefix` into a src/ folder that does not end at the folder's index.js. */
const deepImport = (prefix) => ({
  regex: `^${prefix}[^./][^/]*/(?!index\\.js$)`,
  message: "Import from the folder's index.js: it is the module's front door.",
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'var/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error', 'warn'] }],
    },
  },
  { files: ['src/cli/**', 'bench/**', 'scripts/**', 'test/**'], rules: { 'no-console': 'off' } },
  // Module front doors: in src/, another folder is reached only through its index.js
  // (test/ and bench/ may reach internals). Top-level files reach folders with './'.
  {
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [deepImport('(\\.\\./)+')] }] },
  },
  {
    files: ['src/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [deepImport('(\\.\\./)+'), deepImport('\\./')] },
      ],
    },
  },
);
