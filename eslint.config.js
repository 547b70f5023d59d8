// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/*
 * Layer rules (docs/architecture.md, "Import rules"): which parts of src/ a folder may not import.
 * A relative import names the layer it reaches right after its `../` steps, so one pattern per
 * layer matches it from any depth. `no-restricted-imports` takes one set of options per file (a
 * later block replaces an earlier one's), so each block below lists every pattern its files obey.
 */
const escape = (/** @type {string} */ text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A pattern refusing imports of the named layers of src/ (`http`, `config.ts`, …). */
function layers(/** @type {string} */ rule, /** @type {string[]} */ names) {
  return {
    regex: `^(?:\\.\\./)+(?:${names.map(escape).join('|')})(?:/|$)`,
    message: rule,
  };
}
const CORE_RULE =
  'core/ is the pure centre: it imports no other layer of src/ (docs/architecture.md).';
const CORE_IO_RULE = 'core/ is pure: no sockets, no files, no processes (docs/architecture.md).';
const CLIENT_RULE =
  'client/ runs in browsers too: web-standard APIs only, no Node module, no other layer of src/.';
// What would give core/ sockets, files or processes.
const CORE_FORBIDDEN_IO = [
  'net',
  'http',
  'http2',
  'https',
  'tls',
  'dgram',
  'fs',
  'fs/promises',
  'child_process',
  'cluster',
  'sqlite',
  'worker_threads',
];
const coreRules = [
  layers(CORE_RULE, [
    'auth',
    'backends',
    'cli',
    'client',
    'http',
    'config.ts',
    'herald.ts',
    'index.ts',
  ]),
  { regex: `^node:(?:${CORE_FORBIDDEN_IO.map(escape).join('|')})$`, message: CORE_IO_RULE },
];
const backendRules = [
  layers('backends/ import core/ (and the config types) only.', [
    'auth',
    'cli',
    'client',
    'http',
    'herald.ts',
    'index.ts',
  ]),
];
const authRules = [
  layers('auth/ imports core/ (and the config types) only.', [
    'backends',
    'cli',
    'client',
    'http',
    'herald.ts',
    'index.ts',
  ]),
];
const configRules = [
  layers("config.ts is the configuration's shape: it imports core/ only.", [
    'auth',
    'backends',
    'cli',
    'client',
    'http',
    'herald.ts',
    'index.ts',
  ]),
];
const optionsRules = [
  layers(
    'options/ declares and checks the configuration: it never reaches the CLI or the client SDK.',
    ['cli', 'client', 'herald.ts', 'index.ts'],
  ),
];
const httpRules = [
  layers(
    'http/ imports core/, auth/ and the config types; it never reaches a backend, the CLI or the client SDK.',
    ['backends', 'cli', 'client', 'herald.ts', 'index.ts'],
  ),
];
const notRoutes = {
  regex: '^(?:\\.\\.?/)+routes/',
  message: 'Routes are leaves of http/: only request-handler.ts dispatches to them.',
};
const streamRules = [
  ...httpRules,
  notRoutes,
  {
    regex: '^\\.\\./(?:request|ui)/',
    message: "http/streams/ writes event streams: it knows nothing of requests' parsing or the UI.",
  },
];
const clientRules = [
  layers(CLIENT_RULE, [
    'auth',
    'backends',
    'cli',
    'core',
    'http',
    'config.ts',
    'herald.ts',
    'index.ts',
  ]),
  { regex: '^node:', message: CLIENT_RULE },
  { regex: `^(?:${builtinModules.map(escape).join('|')})(?:/|$)`, message: CLIENT_RULE },
];
const restrict = (/** @type {object[]} */ patterns) => ({
  'no-restricted-imports': ['error', { patterns }],
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.bench/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test() returns a promise the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', name: ['test', 'it', 'describe', 'suite'], package: 'node:test' },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  { files: ['src/core/**'], rules: restrict(coreRules) },
  { files: ['src/backends/**'], rules: restrict(backendRules) },
  { files: ['src/auth/**'], rules: restrict(authRules) },
  { files: ['src/config.ts'], rules: restrict(configRules) },
  { files: ['src/options/**'], rules: restrict(optionsRules) },
  { files: ['src/http/**'], rules: restrict(httpRules) },
  {
    files: ['src/http/**'],
    ignores: ['src/http/request-handler.ts', 'src/http/routes/**'],
    rules: restrict([...httpRules, notRoutes]),
  },
  { files: ['src/http/streams/**'], rules: restrict(streamRules) },
  { files: ['src/client/**'], rules: restrict(clientRules) },
  {
    // The web UI's plain browser modules.
    files: ['ui/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'document',
          'window',
          'location',
          'URL',
          'URLSearchParams',
          'EventSource',
          'fetch',
          'AbortController',
          'TextDecoderStream',
          'setTimeout',
          'clearTimeout',
          'getComputedStyle',
          'matchMedia',
          'ResizeObserver',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
