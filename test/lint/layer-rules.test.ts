import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

// The project's own eslint.config.js, run on files that exist only in memory. Type-aware rules
// are switched off (the layer rules read import strings, not types), so no TypeScript program is
// built for the lint.
const root = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: root, overrideConfig: tseslint.configs.disableTypeChecked });

/** The messages of the layer rule for `code` as if it were the file at `path` (from the root). */
async function layerViolations(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${path}` });
  assert.ok(result, 'eslint returned no result');
  const fatal = result.messages.filter((m) => m.fatal === true);
  assert.deepEqual(fatal, [], `the fixture for ${path} does not parse`);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

async function assertRefused(path: string, code: string, says: RegExp): Promise<void> {
  const messages = await layerViolations(path, code);
  assert.equal(messages.length, 1, `${path}: ${code} should break a layer rule once`);
  assert.match(messages[0] ?? '', says);
}

async function assertAllowed(path: string, code: string): Promise<void> {
  assert.deepEqual(await layerViolations(path, code), [], `${path}: ${code} should be allowed`);
}

test('the project config refuses core/ importing any other layer of src/', async () => {
  const core = 'src/core/layer-fixture.ts';
  await assertRefused(
    core,
    "import { sendProblem } from '../http/problem.ts';\nvoid sendProblem;\n",
    /core\/ is the pure centre/,
  );
  await assertRefused(
    core,
    "import type { HeraldConfig } from '../config.ts';\nexport type C = HeraldConfig;\n",
    /core\/ is the pure centre/,
  );
  await assertRefused(
    core,
    "export { openBackend } from '../backends/open-backend.ts';\n",
    /core\/ is the pure centre/,
  );
  await assertRefused(
    core,
    "import { createServer } from 'node:net';\nvoid createServer;\n",
    /no sockets, no files/,
  );
  await assertAllowed(core, "import { HeraldError } from './errors.ts';\nvoid HeraldError;\n");
});

test('the project config refuses client/ importing a Node module or another layer', async () => {
  const client = 'src/client/layer-fixture.ts';
  await assertRefused(
    client,
    "import { EventEmitter } from 'node:events';\nvoid EventEmitter;\n",
    /client\/ runs in browsers/,
  );
  await assertRefused(
    client,
    "import { EventEmitter } from 'events';\nvoid EventEmitter;\n",
    /client\/ runs in browsers/,
  );
  await assertRefused(
    client,
    "import { HeraldError } from '../core/errors.ts';\nvoid HeraldError;\n",
    /client\/ runs in browsers/,
  );
  await assertAllowed(
    client,
    "import { createParser } from 'eventsource-parser';\nimport { backoffDelay } from './backoff.ts';\nvoid createParser;\nvoid backoffDelay;\n",
  );
});

test('the project config keeps backends/, auth/ and http/ off the layers above them', async () => {
  await assertRefused(
    'src/backends/layer-fixture.ts',
    "import { HeraldMetrics } from '../http/metrics.ts';\nvoid HeraldMetrics;\n",
    /backends\/ import core\//,
  );
  await assertAllowed(
    'src/backends/layer-fixture.ts',
    "import type { Backend } from '../core/backend.ts';\nexport type B = Backend;\n",
  );
  await assertRefused(
    'src/auth/layer-fixture.ts',
    "import { sendProblem } from '../http/problem.ts';\nvoid sendProblem;\n",
    /auth\/ imports core\//,
  );
  await assertRefused(
    'src/http/routes/layer-fixture.ts',
    "import { openBackend } from '../../backends/open-backend.ts';\nvoid openBackend;\n",
    /never reaches a backend/,
  );
  await assertRefused(
    'src/http/layer-fixture.ts',
    "import { startHerald } from '../herald.ts';\nvoid startHerald;\n",
    /never reaches a backend/,
  );
  await assertAllowed(
    'src/http/routes/layer-fixture.ts',
    "import { findToken } from '../../auth/token-source.ts';\nimport { HeraldError } from '../../core/errors.ts';\nvoid findToken;\nvoid HeraldError;\n",
  );
});

test('inside http/, only the request handler reaches the routes, and streams stay low', async () => {
  await assertRefused(
    'src/http/ui/layer-fixture.ts',
    "import { handleSubscribe } from '../routes/subscribe-route.ts';\nvoid handleSubscribe;\n",
    /Routes are leaves/,
  );
  await assertRefused(
    'src/http/layer-fixture.ts',
    "import { handlePublish } from './routes/publish-route.ts';\nvoid handlePublish;\n",
    /Routes are leaves/,
  );
  await assertAllowed(
    'src/http/request-handler.ts',
    "import { handlePublish } from './routes/publish-route.ts';\nvoid handlePublish;\n",
  );
  await assertRefused(
    'src/http/streams/layer-fixture.ts',
    "import { requestDialect } from '../request/request-dialect.ts';\nvoid requestDialect;\n",
    /knows nothing of requests/,
  );
  await assertAllowed(
    'src/http/streams/layer-fixture.ts',
    "import { encodeFrame } from '../../core/sse-frame.ts';\nimport { UnsentBudget } from './unsent-budget.ts';\nvoid encodeFrame;\nvoid UnsentBudget;\n",
  );
});
