// The floor for what Node itself costs: a Set of SSE responses and one pre-encoded Buffer
// written to each on publish. No ids, no history, no auth, no topics.
//   node raw-node-server.mjs <port>     GET /sub subscribes, POST /pub broadcasts its body.
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';
import process from 'node:process';

const subscribers = new Set();
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/sub') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.write(':\n\n');
    subscribers.add(res);
    res.on('close', () => subscribers.delete(res));
    return;
  }
  if (req.method === 'POST' && req.url === '/pub') {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const frame = Buffer.from(`data: ${Buffer.concat(chunks).toString()}\n\n`);
      for (const subscriber of subscribers) subscriber.write(frame);
      res.end('ok');
    });
    return;
  }
  res.writeHead(404).end();
});
server.listen({ port: Number(process.argv[2] ?? 0), host: '127.0.0.1', backlog: 4096 }, () => {
  process.stdout.write(`listening on ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
