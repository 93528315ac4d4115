import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseLine } from '../../protocols/gateway/line-request.ts'

describe('gateway line parser', () => {
  it('reads every command in text and JSON form', () => {
    expect(parseLine('prime 104729')).toEqual({ ok: true, request: { cmd: 'prime', n: 104729n } })
    expect(parseLine('range 1 30')).toEqual({ ok: true, request: { cmd: 'range', from: 1n, to: 30n } })
    expect(parseLine('count 1 1e12')).toEqual({ ok: true, request: { cmd: 'count', from: 1n, to: 1_000_000_000_000n } })
    expect(parseLine('COUNT 1_000 2.5e3')).toEqual({ ok: true, request: { cmd: 'count', from: 1000n, to: 2500n } })
    expect(parseLine('echo  hi  there ')).toEqual({ ok: true, request: { cmd: 'echo', text: 'hi  there' } })
    expect(parseLine('calc sum 1 2.5 -3')).toEqual({ ok: true, request: { cmd: 'calc', op: 'sum', numbers: [1, 2.5, -3] } })
    expect(parseLine('text uppercase a b')).toEqual({ ok: true, request: { cmd: 'text', op: 'uppercase', text: 'a b' } })
    for (const cmd of ['stats', 'hello', 'peers', 'help']) expect(parseLine(cmd)).toEqual({ ok: true, request: { cmd } })
    expect(parseLine('{"cmd":"count","from":1,"to":100000,"id":7}')).toEqual({ ok: true, request: { cmd: 'count', from: 1n, to: 100000n }, id: 7 })
    expect(parseLine('{"cmd":"prime","n":"18446744073709551557","id":"a"}')).toEqual({ ok: true, request: { cmd: 'prime', n: 18446744073709551557n }, id: 'a' })
    expect(parseLine('{"cmd":"calc","op":"max","numbers":[1,5]}')).toEqual({ ok: true, request: { cmd: 'calc', op: 'max', numbers: [1, 5] } })
    expect(parseLine('{"cmd":"text","op":"lowercase","text":"AB"}')).toEqual({ ok: true, request: { cmd: 'text', op: 'lowercase', text: 'AB' } })
  })

  it('refuses bad lines with a reason, keeping the id of a JSON request', () => {
    expect(parseLine('range 30 1')).toMatchObject({ ok: false, kind: 'bad_arguments', error: 'from must not be greater than to' })
    expect(parseLine('count 1 2^64')).toMatchObject({ ok: false, kind: 'bad_arguments' })
    expect(parseLine('count 1 18446744073709551616')).toMatchObject({ ok: false, error: 'to must be below 2^64' })
    expect(parseLine('count -1 5')).toMatchObject({ ok: false, kind: 'bad_arguments' })
    expect(parseLine('prime 1e400')).toMatchObject({ ok: false, kind: 'bad_arguments' })
    expect(parseLine('calc pow 1 2')).toMatchObject({ ok: false, error: 'calc operations are sum, average, max, min' })
    expect(parseLine('launch missiles')).toMatchObject({ ok: false, kind: 'unknown_command' })
    expect(parseLine('{"cmd":"nope","id":3}')).toMatchObject({ ok: false, kind: 'unknown_command', id: 3 })
    expect(parseLine('{"cmd":"range","from":5,"to":1,"id":4}')).toMatchObject({ ok: false, kind: 'bad_arguments', id: 4 })
    expect(parseLine('{"cmd":')).toMatchObject({ ok: false, kind: 'bad_json' })
    expect(parseLine('')).toMatchObject({ ok: false, kind: 'empty' })
  })

  it('an unknown command is quoted, control characters escaped', () => {
    const parsed = parseLine('\u001b[2J\u0007x')
    expect(parsed.ok).toBe(false)
    const control = (c: string): boolean => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f)
    if (!parsed.ok) expect([...parsed.error].filter(control)).toEqual([])
  })

  it('never throws, and gives exactly one answer (a request or an error) for any line', () => {
    const words = fc.constantFrom('prime', 'range', 'count', 'echo', 'calc', 'text', 'stats', 'hello', 'peers', 'help', 'sum', 'uppercase', '1e9', '-5', '2^64', '1_0', '{', '"cmd"', '}')
    const line = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.array(fc.oneof(words, fc.string({ maxLength: 8 }), fc.bigInt({ min: -10n, max: 1n << 70n }).map(String)), { maxLength: 6 }).map(w => w.join(' ')),
      fc.jsonValue().map(v => JSON.stringify(v)),
      fc.record({ cmd: fc.oneof(words, fc.jsonValue()), from: fc.jsonValue(), to: fc.jsonValue(), n: fc.jsonValue(), id: fc.jsonValue(), op: fc.jsonValue(), text: fc.jsonValue(), numbers: fc.jsonValue() }, { requiredKeys: [] }).map(v => JSON.stringify(v))
    )
    fc.assert(fc.property(line, text => {
      const parsed = parseLine(text)
      expect(typeof parsed.ok).toBe('boolean')
      if (parsed.ok) expect(typeof parsed.request.cmd).toBe('string')
      else expect(parsed.error.length).toBeGreaterThan(0)
      // The answer must serialise (no bigint, no cycles).
      expect(() => JSON.stringify(parsed.ok ? { id: parsed.id } : parsed)).not.toThrow()
    }), { numRuns: 3000 })
  })
})
