// What an idle subscriber keeps alive, after garbage collection: Herald (from dist/) or the raw
// node:http broadcast server, run in this process; a child process holds the connections.
//   npm run build && node --expose-gc bench/fanout/retained-memory.mjs herald|node [subscribers]
// Prints, per subscriber: retained heap after GC, RSS growth, and heap in use before GC (what
// the fan-out benchmark's RSS figure also counts: garbage not yet collected).
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const [mode = 'herald', countText = '4000', port = '0', path = '/'] = process.argv.slice(2);
const count = Number(countText);

if (mode === 'client') {
  const sockets = [];
  for (let start = 0; start < count; start += 250) {
    const wave = [];
    for (let i = start; i < Math.min(count, start + 250); i++) {
      const socket = connect({
        host: '127.0.0.1',
        port: Number(port),
        localAddress: `127.0.9.${1 + (i % 4)}`,
      });
      socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
      wave.push(new Promise((resolve) => socket.once('data', resolve)));
      sockets.push(socket);
    }
    await Promise.all(wave);
  }
  process.send?.('connected');
  process.on('disconnect', () => process.exit(0));
} else {
  if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
  let served;
  if (mode === 'herald') {
    const { startHerald } = await import('../../dist/herald.js');
    const { pino } = await import('pino');
    const key = 'retained-memory-benchmark-key-at-least-32-bytes';
    const herald = await startHerald(
      {
        host: '127.0.0.1',
        port: 0,
        store: { kind: 'memory' },
        anonymous: true,
        publisherJwtKey: key,
        subscriberJwtKey: key,
      },
      { logger: pino({ level: 'warn' }) },
    );
    served = { port: herald.port, path: '/.well-known/mercure?topic=bench' };
  } else {
    const subscribers = new Set();
    const server = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.write(':\n\n');
      subscribers.add(res);
      res.on('close', () => subscribers.delete(res));
    });
    await new Promise((resolve) =>
      server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve),
    );
    served = { port: server.address().port, path: '/sub' };
  }
  const collected = () => {
    globalThis.gc();
    globalThis.gc();
    return process.memoryUsage();
  };
  const before = collected();
  const client = fork(fileURLToPath(import.meta.url), [
    'client',
    String(count),
    String(served.port),
    served.path,
  ]);
  await new Promise((resolve) => client.once('message', resolve));
  await sleep(1_000);
  const uncollected = process.memoryUsage();
  const after = collected();
  const kb = (a, b, key) => ((a[key] - b[key]) / count / 1024).toFixed(2);
  process.stdout.write(
    `${mode}, ${count} idle subscribers, KB each: retained heap ${kb(after, before, 'heapUsed')}, ` +
      `RSS ${kb(after, before, 'rss')}, heap in use before GC ${kb(uncollected, before, 'heapUsed')}\n`,
  );
  client.disconnect();
  process.exit(0);
}
