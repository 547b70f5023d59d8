import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/cli.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  files: string[];
};
const KEY = 'pack-install-test-key-of-thirty-two-bytes-or-more';
const TOPIC = 'https://example.com/packaged';
// This test's node first on PATH: npm and the `herald` bin's `#!/usr/bin/env node` run on the
// Node line under test.
const PATH = [dirname(process.execPath), process.env['PATH'] ?? ''].join(delimiter);

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('npm pack builds dist/ first (prepack), so a fresh clone packs a working package', () => {
  assert.equal(PACKAGE.scripts['prepack'], 'npm run build');
});

test('the packed tarball installs alone and its herald serve, herald token and herald/client work', async (t) => {
  const scratch = tempDir(t);
  // dist/ is the build `npm test` just made; --ignore-scripts skips prepack's second build.
  const packed = JSON.parse(
    npm(['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], ROOT),
  ) as [{ filename: string; files: { path: string }[] }];
  const [{ filename, files }] = packed;
  const paths = files.map((file) => file.path);
  for (const expected of [
    'LICENSE',
    'README.md',
    'package.json',
    'dist/cli/main.js',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/client/index.js',
    'dist/client/index.d.ts',
    'dist/browser/herald-client.js',
    'ui/index.html',
    'docs/deployment.md',
    'deploy/systemd/herald.service',
  ]) {
    assert.ok(paths.includes(expected), `${expected} is packed`);
  }
  assert.ok(!paths.some((path) => /^(src|test|bench|examples)\//.test(path)), paths.join('\n'));

  // An empty project that installs the tarball as a user would: production dependencies only,
  // from the registry (or npm's cache).
  const app = join(scratch, 'app');
  execFileSync('mkdir', [app]);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module' }),
  );
  npm(
    [
      'install',
      '--omit=dev',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      join(scratch, filename),
    ],
    app,
  );
  const installed = readdirSync(join(app, 'node_modules')).filter((name) => !name.startsWith('.'));
  for (const devOnly of ['typescript', 'tsx', 'eslint', 'undici', 'eventsource']) {
    assert.ok(!installed.includes(devOnly), `${devOnly} is not installed`);
  }
  const herald = join(app, 'node_modules', '.bin', 'herald');
  assert.ok(existsSync(herald), 'the herald bin is linked');
  // herald token mints a draft-08 access token by default: it names the issuer the hub trusts
  // with this key and the hub's resource identifier, which herald serve reads from the same
  // variables.
  const env = {
    PATH,
    HERALD_JWT_KEY: KEY,
    HERALD_ACCESS_TOKEN_ISSUER: 'https://issuer.example',
    HERALD_RESOURCE_IDENTIFIER: 'https://hub.example/.well-known/mercure',
  };

  const hub = spawn(herald, ['serve', '--port', '0', '--host', '127.0.0.1', '--anonymous'], {
    cwd: app,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(hub, 'exit');
  t.after(async () => {
    if (hub.exitCode === null && hub.signalCode === null) {
      hub.kill('SIGKILL');
      await exited;
    }
  });
  let output = '';
  hub.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  hub.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const hubUrl = await new Promise<string>((resolve, reject) => {
    hub.stdout.on('data', () => {
      const match = /Herald listening on (\S+)/.exec(output);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    void exited.then(() => {
      reject(new Error(`herald serve exited:\n${output}`));
    });
  });
  // The default store, SQLite, in the working folder.
  assert.ok(existsSync(join(app, 'herald-data', 'herald.db')), output);

  const token = execFileSync(herald, ['token', '--publish', TOPIC], {
    cwd: app,
    env,
    encoding: 'utf8',
  }).trim();
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);

  // herald/client from the installed package: subscribe, publish with the token, receive.
  writeFileSync(
    join(app, 'roundtrip.js'),
    `import { publish, subscribe } from 'herald/client';
const [hubUrl, token, topic] = process.argv.slice(2);
const subscription = subscribe(hubUrl, topic);
const received = new Promise((resolve) => subscription.on('message', resolve));
await new Promise((resolve) => subscription.onState(({ to }) => to === 'open' && resolve()));
const id = await publish(hubUrl, { topic, data: 'from the tarball' }, { token });
const event = await received;
subscription.close();
console.log(JSON.stringify({ id, eventId: event.id, data: event.data }));
`,
  );
  const roundtrip = JSON.parse(
    execFileSync(process.execPath, ['roundtrip.js', hubUrl, token, TOPIC], {
      cwd: app,
      encoding: 'utf8',
    }),
  ) as { id: string; eventId: string; data: string };
  assert.equal(roundtrip.data, 'from the tarball');
  assert.equal(roundtrip.eventId, roundtrip.id);

  hub.kill('SIGTERM');
  await exited;
  assert.equal(hub.exitCode, 0, output);
  assert.doesNotMatch(output, /Warning/);
});
