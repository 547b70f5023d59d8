/**
 * What an idle HTTP/2 event stream costs the hub (issue 15 asks for it apart from HTTP/1.1):
 * a built Herald on HTTPS (a self-signed certificate), pinned to CPU 1, and from this process on
 * CPU 0 `--sessions` HTTP/2 connections carrying `--streams` event streams each (a browser puts
 * every tab's EventSource of one origin on one connection, up to the hub's 1,000 concurrent
 * streams). Reported: server RSS growth per stream 2 s after the last stream's head, no forced
 * GC (as the fan-out benchmark measures HTTP/1.1), and server CPU per stream opened.
 *
 *   npm run build && taskset -c 0 node --import tsx bench/fanout/http2-idle.ts [--sessions 10]
 *     [--streams 1000]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:http2';
import type { ClientHttp2Session } from 'node:http2';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { selfSignedCertificate } from '../../test/support/tls-certificate.ts';
import { cpuSeconds, rssBytes } from '../support/proc.ts';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '10' },
    streams: { type: 'string', default: '1000' },
  },
});
const SESSIONS = Number(values.sessions);
const STREAMS = Number(values.streams);
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const KEY = 'http2-benchmark-key-that-is-long-enough-for-hs256';

const certificate = selfSignedCertificate();
const hub = spawn(
  'taskset',
  [
    '-c',
    '1',
    process.execPath,
    CLI,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--tls-cert',
    certificate.certPath,
    '--tls-key',
    certificate.keyPath,
    '--anonymous',
    '--store',
    'memory',
    '--history-size',
    '1000',
    '--max-streams-per-client',
    '0',
  ],
  {
    env: { PATH: process.env['PATH'] ?? '', HERALD_JWT_KEY: KEY, HERALD_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const origin = await new Promise<string>((resolve, reject) => {
  let output = '';
  hub.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    const match = /Herald listening on (https:\/\/[^/]+)/.exec(output);
    if (match?.[1] !== undefined) resolve(match[1]);
  });
  hub.once('exit', () => {
    reject(new Error(`herald exited before listening:\n${output}`));
  });
});
const pid = hub.pid ?? 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

try {
  await sleep(1000);
  const rssBefore = rssBytes(pid);
  const cpuBefore = cpuSeconds(pid);
  const started = performance.now();
  const sessions: ClientHttp2Session[] = [];
  const heads: Promise<void>[] = [];
  for (let s = 0; s < SESSIONS; s++) {
    const session = connect(origin, { ca: certificate.cert });
    session.on('error', () => undefined);
    sessions.push(session);
    for (let i = 0; i < STREAMS; i++) {
      const stream = session.request({ ':path': '/.well-known/mercure?topic=bench' });
      stream.on('error', () => undefined);
      // The first comment tells the stream is open; then nothing is read but heartbeats.
      heads.push(once(stream, 'data').then(() => undefined));
    }
  }
  await Promise.all(heads);
  const connectSeconds = (performance.now() - started) / 1000;
  const cpuPerStreamUs = ((cpuSeconds(pid) - cpuBefore) * 1e6) / (SESSIONS * STREAMS);
  await sleep(2000);
  const kbPerStream = (rssBytes(pid) - rssBefore) / 1024 / (SESSIONS * STREAMS);
  console.log(
    JSON.stringify({
      sessions: SESSIONS,
      streamsPerSession: STREAMS,
      streams: SESSIONS * STREAMS,
      connectSeconds: Number(connectSeconds.toFixed(2)),
      serverCpuUsPerStream: Math.round(cpuPerStreamUs),
      kbPerIdleStream: Number(kbPerStream.toFixed(1)),
    }),
  );
  for (const session of sessions) session.destroy();
} finally {
  hub.kill('SIGKILL');
  certificate.remove();
}
