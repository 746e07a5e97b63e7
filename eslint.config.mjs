// ESLint flat config: typescript-eslint's recommended rules over the TypeScript sources. Formatting is
// Prettier's job (npm run format:check), layering is dependency-cruiser's (.dependency-cruiser.cjs).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // Migrations are generated and never edited after landing; the rest is built or installed output.
    // bench/peer/ is the benchmark's PostGraphile peer, with its own package.json (installed only by --peer).
    ignores: ['dist/', 'node_modules/', 'coverage/', '.data/', 'migrations/', 'schema/', 'bench/peer/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // `_name` says "deliberately unused" (a parameter an interface requires, a field left out of a rest).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Error codes come from one enum (src/common/error-code.ts), so the exhaustive mapping there sees them all.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "Property[key.name='code'][value.type='Literal']",
          message:
            'Use ErrorCode (src/common/error-code.ts) or UserErrorCode, not a string literal, for an error code.',
        },
      ],
    },
  },
  {
    // Tests read GraphQL answers off the wire and assert on them field by field: typing every answer would
    // restate the schema in each test. The code under test stays under the full rule.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.{js,cjs}'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
