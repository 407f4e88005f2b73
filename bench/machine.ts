import fs from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  nodeVersion: string;
  /** The 1-minute load average when the run started; above the core count, other processes share the CPU. */
  loadAverage: number;
}

export function describeMachine(): MachineInfo {
  return {
    cpuModel: cpuModelFromProc() ?? os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    nodeVersion: process.version,
    loadAverage: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}

function cpuModelFromProc(): string | undefined {
  try {
    const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
    return /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim();
  } catch {
    return undefined;
  }
}

/** Reads the resident set size of a process in MiB from /proc (Linux only). */
export function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kibibytes = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (!kibibytes) throw new Error(`/proc/${pid}/status has no VmRSS line`);
  return Number(kibibytes) / 1024;
}

/** Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ) on every mainstream architecture. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Reads the user plus system CPU time of a process in seconds from /proc (Linux only). */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return (fields.userTicks + fields.systemTicks) / CLOCK_TICKS_PER_SECOND;
}

/** Reads how many minor page faults (memory mapped in without disk I/O) a process has taken, from /proc. */
export function minorFaults(pid: number): number {
  return statFields(pid).minorFaults;
}

function statFields(pid: number): { minorFaults: number; userTicks: number; systemTicks: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name in brackets may hold spaces, so the fields are counted from after its closing bracket.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  const [minor, user, system] = [fields[7], fields[11], fields[12]];
  if (![minor, user, system].every((value) => Number.isFinite(value))) throw new Error(`/proc/${pid}/stat has no fault or CPU time fields`);
  return { minorFaults: minor!, userTicks: user!, systemTicks: system! };
}
