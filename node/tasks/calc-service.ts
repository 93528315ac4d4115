import { InvalidArgumentsError } from '../../protocols/rpc/errors.ts'
import type { RpcMethods } from '../rpc/rpc-types.ts'

/** Numbers one calc request may carry; a 1 MiB frame holds about this many short ones. */
export const MAX_CALC_NUMBERS = 100_000

export const CALC_OPS = ['sum', 'average', 'max', 'min'] as const
export type CalcOp = typeof CALC_OPS[number]

/** `args` must be a list of finite numbers: anything else is InvalidArgumentsError. */
export function numbersOf (args: unknown, op: string): number[] {
  if (!Array.isArray(args)) throw new InvalidArgumentsError(`calc.${op} takes a list of numbers, got ${typeName(args)}`)
  if (args.length > MAX_CALC_NUMBERS) throw new InvalidArgumentsError(`calc.${op} takes at most ${MAX_CALC_NUMBERS} numbers, got ${args.length}`)
  for (let i = 0; i < args.length; i++) {
    const x = args[i]
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new InvalidArgumentsError(`calc.${op}: item ${i} is ${typeName(x)}, not a finite number`)
  }
  return args
}

export function calculate (op: CalcOp, numbers: number[]): number {
  if (numbers.length === 0 && op !== 'sum') throw new InvalidArgumentsError(`calc.${op} needs at least one number`)
  switch (op) {
    case 'sum': return finite(numbers.reduce((s, x) => s + x, 0), op)
    case 'average': return average(numbers)
    case 'max': return numbers.reduce((m, x) => Math.max(m, x), -Infinity)
    case 'min': return numbers.reduce((m, x) => Math.min(m, x), Infinity)
  }
}

/** sum / n, or a running mean when the sum itself overflows (the mean of huge numbers does not). */
function average (numbers: number[]): number {
  const sum = numbers.reduce((s, x) => s + x, 0)
  if (Number.isFinite(sum)) return sum / numbers.length
  return numbers.reduce((mean, x, i) => mean + (x - mean) / (i + 1), 0)
}

function finite (value: number, op: string): number {
  // Infinity is not JSON (it would travel as null): say so instead.
  if (!Number.isFinite(value)) throw new InvalidArgumentsError(`calc.${op} overflows a 64-bit float`)
  return value
}

function typeName (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'number') return String(value)
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/** calc.sum|average|max|min: cheap (one pass over bounded input), so they run inline. */
export function calcMethods (): RpcMethods {
  const methods: RpcMethods = {}
  for (const op of CALC_OPS) methods[op] = (args: unknown) => calculate(op, numbersOf(args, op))
  return methods
}
