const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB'];

/** Formats a byte count with binary multiples (1 KB = 1024 bytes), one decimal above the bytes. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${UNITS[unit]}`;
}
