/** Writes one JSON document to stdout: what `--json` promises scripts. */
export function printJson (value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => typeof v === 'bigint' ? jsonInteger(v) : v) + '\n')
}

const TWO_POW_53 = 1n << 53n

/**
 * A whole number for JSON: a number up to 2^53, a decimal string above. JSON readers turn
 * numbers into doubles, which cannot hold every integer above 2^53 (a prime count of a range
 * near 2^64 would come out rounded), and a string keeps every digit.
 */
export function jsonInteger (value: bigint): number | string {
  return value <= TWO_POW_53 && value >= -TWO_POW_53 ? Number(value) : value.toString()
}

/** Left-aligned columns for tables on a terminal. */
export function table (rows: string[][]): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length) })
  return rows.map(row => row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i])).join('  ')).join('\n') + '\n'
}
