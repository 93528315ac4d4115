import { bigintJson } from '../protocols/json-bigint.ts'

/** Writes one JSON document to stdout: what `--json` promises scripts. */
export function printJson (value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => typeof v === 'bigint' ? bigintJson(v) : v) + '\n')
}

/** Left-aligned columns for tables on a terminal. */
export function table (rows: string[][]): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length) })
  return rows.map(row => row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i])).join('  ')).join('\n') + '\n'
}

/** "1 member", "3 members": counts in sentences people read. */
export function plural (n: number | bigint | string, word: string, pluralWord = `${word}s`): string {
  return `${String(n)} ${String(n) === '1' ? word : pluralWord}`
}
