import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { resolveConfig } from '../../src/config.ts';
import { createHttpListener } from '../../src/http/http-listener.ts';
import { serverLimits } from '../../src/http/limits/server-limits.ts';
import { checkNodeHttp1 } from '../../src/http/node-http1.ts';
import { loadTlsCredentials } from '../../src/http/tls-credentials.ts';
import { connectHttp2, http2Request } from '../support/http2-client.ts';
import { selfSignedCertificate } from '../support/tls-certificate.ts';

const certificate = selfSignedCertificate();
after(() => {
  certificate.remove();
});

test('an HTTP/2 connection is closed once it has had no open stream for the idle timeout, however quiet its streams are', async (t) => {
  const idleMs = 300;
  const listener = createHttpListener(
    (req, res) => {
      if (req.url === '/quiet-stream') {
        // An event stream that says nothing after its head (heartbeats off).
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write(':\n\n');
        return;
      }
      res.end('ok');
    },
    loadTlsCredentials({ cert: certificate.certPath, key: certificate.keyPath }),
    {
      limits: serverLimits(resolveConfig({ publisherJwtKey: 'k', subscriberJwtKey: 'k' })),
      onClientError: (_, socket) => socket.destroy(),
      http1: await checkNodeHttp1(),
      hubPath: '/.well-known/mercure',
    },
    idleMs,
  );
  const port = await listener.listen(0, '127.0.0.1');
  t.after(async () => {
    const closed = listener.close();
    listener.closeAll();
    await closed;
  });
  const origin = `https://127.0.0.1:${port}`;

  const idle = await connectHttp2(t, origin, certificate.cert);
  const busy = await connectHttp2(t, origin, certificate.cert);
  const goaways: string[] = [];
  idle.on('goaway', () => goaways.push('idle'));
  busy.on('goaway', () => goaways.push('busy'));
  assert.equal((await http2Request(idle, { ':path': '/' })).body, 'ok');
  const stream = busy.request({ ':path': '/quiet-stream' });
  await once(stream, 'response');

  await once(idle, 'close');
  assert.deepEqual(goaways, ['idle'], 'a GOAWAY, then the close');
  // Many idle timeouts later the connection holding the quiet stream is still open: three more
  // connections, opened one after the other, each idle until the server closed it.
  for (let i = 0; i < 3; i++) {
    const later = await connectHttp2(t, origin, certificate.cert);
    await once(later, 'close');
  }
  assert.equal(busy.closed, false);
  // ...and once its last stream ends, its own idle timeout runs.
  stream.close();
  await once(busy, 'close');
  assert.deepEqual(goaways, ['idle', 'busy']);
});
