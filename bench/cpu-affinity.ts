import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/*
 * CPU pinning for the "storage on its own core" streaming figures. In production S3 runs on other machines,
 * so the storage server never takes CPU from the app. On one small machine the closest model is to give
 * s3rver one core and the proxy and the client the others. taskset (util-linux) sets the affinity of every
 * thread of a running process; threads started later inherit it.
 */

/** The reason that the bench logs and reports when taskset fails on a running process. */
export const PIN_FAILED = 'taskset could not pin the processes';

/** The CPU assignment of the streaming processes, or the reason the CPUs cannot be split. */
export type CpuSplit = { storage: string; rest: string; all: string } | { unavailable: string };

/** Gives the first allowed CPU to storage and the others to the rest, when there are at least two and taskset runs. */
export function planCpuSplit(): CpuSplit {
  const allowed = allowedCpus();
  if (allowed.length < 2) return { unavailable: `only ${allowed.length} CPU is available to this process` };
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
  } catch {
    return { unavailable: 'taskset (util-linux) is not installed' };
  }
  return { storage: String(allowed[0]), rest: allowed.slice(1).join(','), all: allowed.join(',') };
}

/** Sets the CPUs that every thread of process `pid` may run on. `cpus` is a list such as "1" or "1,2,3". */
export function pinProcess(pid: number, cpus: string): void {
  execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cpus, String(pid)], { stdio: 'ignore' });
}

/** Reads the CPUs this process may run on from the Cpus_allowed_list line of /proc/self/status (Linux only). */
function allowedCpus(): number[] {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const list = /^Cpus_allowed_list:\s*(\S+)$/m.exec(status)?.[1];
  if (list === undefined) throw new Error('/proc/self/status has no Cpus_allowed_list line');
  return parseCpuList(list);
}

/** Expands a kernel CPU list such as "0-3,8,10-11" into CPU numbers. */
export function parseCpuList(list: string): number[] {
  return list.split(',').flatMap((part) => {
    const bounds = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!bounds) throw new Error(`"${list}" is not a CPU list such as "0-3,8"`);
    const first = Number(bounds[1]);
    const last = bounds[2] === undefined ? first : Number(bounds[2]);
    return Array.from({ length: last - first + 1 }, (_, index) => first + index);
  });
}
