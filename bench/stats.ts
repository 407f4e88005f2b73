/** A figure measured over several rounds. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  rounds: number;
}

export function spreadOf(values: number[]): Spread {
  if (values.length === 0) throw new Error('spreadOf needs at least one value');

  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)!, rounds: sorted.length };
}

/** Formats a spread as "median (min to max)" with the given number of decimals. */
export function formatSpread(spread: Spread, decimals = 0, unit = ''): string {
  const format = (value: number) => value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  return `${format(spread.median)}${unit} (${format(spread.min)} to ${format(spread.max)})`;
}
