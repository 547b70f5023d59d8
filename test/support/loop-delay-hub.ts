/**
 * A hub in its own process, for tests that measure how long the hub's event loop stalls: the
 * test's own work (reading streams, parsing events) must not be counted. Started with `fork`;
 * its options come as JSON in argv[2]. It sends `{ hubUrl }` once listening, answers
 * `'loop-delay'` with the longest stall since the previous question, and `'memory'` with
 * `process.memoryUsage()`.
 *
 * A stall is measured two ways. `maxMs` is wall-clock time (monitorEventLoopDelay): what a
 * client waits, but on a shared machine it also counts the time the process was not scheduled
 * at all. `maxCpuMs` is the CPU time the main thread spent between two turns of a 1 ms timer:
 * the work one turn of the loop did, whatever else runs on the machine. Tests bound the latter.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import type { HeraldOptions } from '../../src/config.ts';
import { startHerald } from '../../src/herald.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as HeraldOptions;
const herald = await startHerald(options, { logger: pino({ level: 'warn' }) });
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
// Node 22.19+ and 24 have the main thread's own figure; Node 20 only the whole process's.
const cpuUsage: () => NodeJS.CpuUsage =
  (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.bind(process) ??
  (() => process.cpuUsage());
let maxCpuMs = 0;
let lastCpu = cpuUsage();
setInterval(() => {
  const cpu = cpuUsage();
  const spentMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
  lastCpu = cpu;
  if (spentMs > maxCpuMs) maxCpuMs = spentMs;
}, 1);

process.on('message', (message: unknown) => {
  if (message === 'loop-delay') {
    process.send?.({ maxMs: delay.max / 1e6, maxCpuMs });
    delay.reset();
    maxCpuMs = 0;
  } else if (message === 'memory') {
    process.send?.(process.memoryUsage());
  } else if (message === 'close') {
    void herald.close().then(() => process.exit(0));
  }
});
process.send?.({ hubUrl: herald.hubUrl });
