// Type-aware lint: the rules that catch the bugs async NestJS code tends to have.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/**
 * The layers of src/, lowest first (docs/architecture.md draws them). A folder imports only from the folders
 * before it: `app/` composes every module, `cli/` runs commands on it, and `src/main.ts` (the entry) parses the
 * command line. A new import that runs up, or a new folder that is not listed here, fails `npm run lint`.
 */
export const LAYERS = [
  'config',
  'observability',
  'common',
  'database',
  'redis',
  'queues',
  'audit',
  'auth',
  'channels',
  'knowledge',
  'self-edits',
  'attestation',
  'inference',
  'training',
  'adapter-versions',
  'gates',
  'approvals',
  'seal',
  'pipeline',
  'lineage',
  'serving',
  'health',
  'app',
  'cli',
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'data/**',
      'node_modules/**',
      'gpu/**',
      'models/**',
      'coverage/**',
      '*.mjs',
      '*.js',
      'test/support/*.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../*'], message: 'Use absolute imports from src/...' }] },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.spec.ts', 'src/main.ts'],
    plugins: { boundaries, 'import-x': importX },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' } },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
      'import-x/internal-regex': '^src/',
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'boundaries/elements': [...LAYERS.map((layer) => ({ type: layer, pattern: `src/${layer}` }))],
    },
    rules: {
      'boundaries/no-unknown-files': 'error',
      // Layers rule out a circle between folders; this one rules it out inside a folder too.
      'import-x/no-cycle': 'error',
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          message:
            '{{from.type}} sits below {{to.type}}: see docs/architecture.md for which layer may import which',
          policies: LAYERS.map((layer, i) => ({
            from: { element: { type: layer } },
            allow: { to: { element: { type: LAYERS.slice(0, i) } } },
          })),
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
