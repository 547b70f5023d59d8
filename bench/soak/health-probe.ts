/**
 * The soak's health probe, in a process of its own: `GET /healthz` every 100 ms over one
 * keep-alive connection (as a load balancer's probe does), timed from the request to the whole
 * answer. Apart from the orchestrator, whose own event loop (publishing, IPC with the clients)
 * would otherwise show up in the timings; with `--pin` it shares the hub's core, so what it
 * times is the hub's answer, not the load generators' turn on the CPU.
 *
 * Started by run.ts with the origin as argument; answers `{ type: 'stop' }` with
 * `{ type: 'health', timings, errors }` and exits.
 */
import { Pool } from 'undici';

const origin = process.argv[2] ?? '';
const pool = new Pool(origin, { connections: 1 });
const timings: number[] = [];
let errors = 0;
const probe = { running: true };

process.on('message', (message: { type: string }) => {
  if (message.type === 'stop') probe.running = false;
});

while (probe.running) {
  const started = performance.now();
  try {
    const response = await pool.request({ path: '/healthz', method: 'GET' });
    await response.body.text();
    if (response.statusCode === 200) timings.push(performance.now() - started);
    else errors++;
  } catch {
    errors++;
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}
process.send?.({ type: 'health', timings, errors }, () => {
  void pool.close().then(() => process.exit(0));
});
