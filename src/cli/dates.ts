import { CliError } from './cli-io.js';

/**
 * Turns --until YYYY-MM-DD into the instant access ends: the end of that day in UTC, so "--until 2027-01-31"
 * lets the subscriber watch all of 31 January.
 */
export function endOfDayUtc(text: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) throw new CliError(`invalid date "${text}": use YYYY-MM-DD, for example 2027-01-31`);

  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const start = new Date(Date.UTC(year, month - 1, day));
  if (start.getUTCFullYear() !== year || start.getUTCMonth() !== month - 1 || start.getUTCDate() !== day) {
    throw new CliError(`invalid date "${text}": there is no such day in the calendar`);
  }
  return new Date(start.getTime() + 24 * 60 * 60 * 1000);
}
