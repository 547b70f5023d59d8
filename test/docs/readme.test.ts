import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../support/cli.ts';
import { checkCurlExample } from '../support/curl-example.ts';

const ROOT = new URL('../../', import.meta.url);
const README = readFileSync(new URL('README.md', ROOT), 'utf8');

/** The shell lines of the README's fenced `sh` blocks, in order. */
function shellLines(markdown: string): string[] {
  return [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((block) =>
    (block[1] ?? '').split('\n').filter((line) => line.trim() !== ''),
  );
}

test('the README starts with the set-up-and-run command and the test command', () => {
  const [run, tests] = shellLines(README);
  assert.match(run ?? '', /^npm ci && npm start\s+#/);
  assert.match(tests ?? '', /^npm test\s+#/);
});

test("npm start runs Herald in development mode, and the README's curl commands work as pasted", async (t) => {
  // `npm start` as a newcomer runs it, on a free port and with its data in a scratch folder:
  // its own process group, stopped by its pid.
  const store = `sqlite:${join(tempDir(t), 'herald.db')}`;
  const start = spawn(
    'npm',
    ['start', '--', '--port', '0', '--host', '127.0.0.1', '--store', store],
    {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = once(start, 'exit');
  t.after(async () => {
    if (start.pid !== undefined && start.exitCode === null) {
      process.kill(-start.pid, 'SIGTERM');
      await exited;
    }
  });
  let output = '';
  start.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  start.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!/Herald listening on/.test(output)) {
    assert.ok(
      Date.now() < deadline && start.exitCode === null,
      `npm start did not come up:\n${output}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const origin = /Herald listening on (http:\/\/[^/]+)/.exec(output)?.[1] ?? '';
  const token = /Publisher token[^\n]*\n\s*(\S+)/.exec(output)?.[1] ?? '';
  assert.match(token, /^eyJ/);

  // The README's commands, with only the port changed.
  const curls = shellLines(README)
    .filter((line) => /^(curl|export) /.test(line))
    .map((line) => line.replaceAll('http://localhost:3000', origin));
  const [subscribe, exportToken, publish] = curls;
  assert.match(exportToken ?? '', /^export HERALD_TOKEN=/);
  assert.match(publish ?? '', /^curl .*\$HERALD_TOKEN/);
  // The reader pastes the export line with their token in place of the placeholder.
  await checkCurlExample(t, subscribe ?? '', publish ?? '', { HERALD_TOKEN: token });
});
