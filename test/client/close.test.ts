import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startRawServer } from './raw-server.ts';

const CHILD = fileURLToPath(new URL('./fixtures/close-child.ts', import.meta.url));

const EXPECTED: Record<string, string> = {
  open: 'closed: closed by the application',
  signal: 'closed: closed by the application',
  backoff: 'closed: closed by the application',
  iterator: 'closed: closed by the application',
  fatal: 'closed: closed HERALD_CLIENT_ERR_NO_CONTENT',
};

test('close() leaves nothing behind: the process exits by itself, however it closed', async (t) => {
  const server = await startRawServer(t, (req, res) => {
    const mode = new URL(req.url ?? '/', 'http://localhost').searchParams.get('topic');
    if (mode === 'backoff') {
      res.writeHead(503).end();
    } else if (mode === 'fatal') {
      res.writeHead(204).end();
    } else {
      // A stream that stays open: the client holds a request, a body reader and a stall timer.
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write(': open\n\ndata: first\n\n');
    }
  });
  for (const mode of Object.keys(EXPECTED)) {
    await t.test(mode, async (t) => {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, server.url, mode], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = once(child, 'exit');
      t.after(() => {
        if (child.exitCode === null) child.kill('SIGKILL');
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      let closedAt = 0;
      const timeout = new Promise<'timeout'>((resolve) => {
        const check = setInterval(() => {
          if (closedAt === 0 && output.includes('closed:')) closedAt = performance.now();
          if (closedAt !== 0 && performance.now() - closedAt > 3000) resolve('timeout');
        }, 10);
        void exited.then(() => {
          clearInterval(check);
        });
      });
      const result = await Promise.race([exited, timeout]);
      assert.notEqual(result, 'timeout', `the process stayed alive after close():\n${output}`);
      assert.equal(child.exitCode, 0, output);
      assert.equal(output.trim(), EXPECTED[mode]);
    });
  }
});
