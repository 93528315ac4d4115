import { InvalidArgumentsError } from '../../protocols/rpc/errors.ts'
import type { RpcMethods } from '../rpc/rpc-types.ts'

export const TEXT_OPS = ['count_words', 'count_chars', 'uppercase', 'lowercase'] as const
export type TextOp = typeof TEXT_OPS[number]

export function textOf (args: unknown, op: string): string {
  if (typeof args !== 'string') throw new InvalidArgumentsError(`text.${op} takes a string, got ${args === null ? 'null' : Array.isArray(args) ? 'a list' : typeof args === 'object' ? 'an object' : `a ${typeof args}`}`)
  return args
}

/**
 * The text tasks. Characters are Unicode code points (what a person counts, and what
 * Python's len() gives), not UTF-16 units: an emoji is one character, not two.
 */
export function transformText (op: TextOp, text: string): number | string {
  switch (op) {
    case 'count_words': {
      const trimmed = text.trim()
      return trimmed === '' ? 0 : trimmed.split(/\s+/u).length
    }
    case 'count_chars': {
      let n = 0
      for (const _ of text) n++
      return n
    }
    case 'uppercase': return text.toUpperCase()
    case 'lowercase': return text.toLowerCase()
  }
}

/** text.count_words|count_chars|uppercase|lowercase: one pass over a bounded string, inline. */
export function textMethods (): RpcMethods {
  const methods: RpcMethods = {}
  for (const op of TEXT_OPS) methods[op] = (args: unknown) => transformText(op, textOf(args, op))
  return methods
}
