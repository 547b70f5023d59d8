import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100;

/** A process and its direct children (nginx's workers), as the kernel counts them. */
function family(pid: number): number[] {
  try {
    const children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
    return [pid, ...children];
  } catch {
    return [pid];
  }
}

/** User + system CPU seconds of a process and its children, from /proc/PID/stat. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const member of family(pid)) {
    const stat = readFileSync(`/proc/${member}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** Resident memory in bytes of a process and its children, from /proc/PID/status. */
export function rssBytes(pid: number): number {
  let kb = 0;
  for (const member of family(pid)) {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${member}/status`, 'utf8'));
    kb += Number(match?.[1] ?? 0);
  }
  return kb * 1024;
}
