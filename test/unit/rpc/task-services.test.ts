import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ControlHandler } from '../../../node/control/control-server.ts'
import type { RpcContext } from '../../../node/rpc/rpc-types.ts'
import { ServiceRegistry } from '../../../node/rpc/service-registry.ts'
import { MeshDatabase } from '../../../node/store/database.ts'
import { calcMethods } from '../../../node/tasks/calc-service.ts'
import { greeterMethods } from '../../../node/tasks/greeter-service.ts'
import { registerTaskControl } from '../../../node/tasks/task-services.ts'
import { textMethods } from '../../../node/tasks/text-service.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'

const ctx: RpcContext = { signal: new AbortController().signal, caller: 'me', deadline: Date.now() + 1000 }
const calc = calcMethods()
const text = textMethods()
const greeter = greeterMethods()

function nameOfThrow (fn: () => unknown): string | undefined {
  try { fn() } catch (err: any) { return err.name }
  return undefined
}

describe('calc, text and greeter methods', () => {
  it('calc: sum, average, max and min', () => {
    expect(calc.sum([10, 20, 30, 40], ctx)).toBe(100)
    expect(calc.average([10, 20, 30, 40], ctx)).toBe(25)
    expect(calc.max([3, -7, 12.5], ctx)).toBe(12.5)
    expect(calc.min([3, -7, 12.5], ctx)).toBe(-7)
    expect(calc.sum([], ctx)).toBe(0)
    expect(calc.average([1e308, 1e308], ctx)).toBe(1e308)
  })

  it('calc: wrong types are InvalidArgumentsError', () => {
    for (const bad of ['10 20', [1, '2'], [1, null], { numbers: [1] }, null, [Number.NaN]]) {
      expect(nameOfThrow(() => calc.sum(bad, ctx))).toBe('InvalidArgumentsError')
    }
    expect(nameOfThrow(() => calc.average([], ctx))).toBe('InvalidArgumentsError')
    expect(nameOfThrow(() => calc.max([], ctx))).toBe('InvalidArgumentsError')
    expect(nameOfThrow(() => calc.sum([1e308, 1e308], ctx))).toBe('InvalidArgumentsError')
  })

  it('text: words, characters (code points), upper and lower case', () => {
    expect(text.count_words('  this is   an example\n', ctx)).toBe(4)
    expect(text.count_words('   ', ctx)).toBe(0)
    expect(text.count_chars('olá 👋', ctx)).toBe(5)
    expect(text.uppercase('Este é um exemplo', ctx)).toBe('ESTE É UM EXEMPLO')
    expect(text.lowercase('ÁRVORE', ctx)).toBe('árvore')
    expect(nameOfThrow(() => text.uppercase(42, ctx))).toBe('InvalidArgumentsError')
  })

  it('greeter: Hello -> World, anything else a named error', () => {
    expect(greeter.hello('Hello', ctx)).toBe('World')
    expect(nameOfThrow(() => greeter.hello('Hi', ctx))).toBe('UnknownGreetingError')
  })
})

describe('tasks.run and tasks.results', () => {
  it('records results at the injected clock\'s time, and knows the task methods are idempotent without serving them', async () => {
    const home = await mkdtemp(join(tmpdir(), 'mesh-tasks-'))
    const db = new MeshDatabase(home)
    try {
      const clock = new FakeClock(1_800_000_000_000)
      const handlers = new Map<string, ControlHandler>()
      const registry = new ServiceRegistry(new Set())
      const self = { id: 'self-peer-id', nick: 'me', state: 'alive' }
      const other = { id: 'other-peer-id', nick: 'bob', state: 'alive' }
      const peers = { peers: () => [self, other] }
      const rpc = {
        registry,
        call: async (_service: string, method: string, args: unknown) => ({ result: calcMethods()[method](args, {} as RpcContext), peer: other.id, attempts: 1 })
      } as any
      registerTaskControl({ rpc, control: { register: (m, h) => { handlers.set(m, h) } }, peers, db, clock })
      expect(registry.idempotent('calc', 'sum')).toBe(true)
      expect(registry.idempotent('greeter', 'hello')).toBe(true)

      const call = async (method: string, params: Record<string, unknown>): Promise<any> => await handlers.get(method)?.(params, new AbortController().signal)
      expect(await call('tasks.run', { kind: 'calc', op: 'sum', input: [1, 2, 3] })).toMatchObject({ result: 6, peer: other.id, nick: 'bob' })
      const { results } = await call('tasks.results', {})
      expect(results).toMatchObject([{ at: 1_800_000_000_000, kind: 'calc', op: 'sum', ok: true, result: 6, nick: 'bob' }])
    } finally {
      db.close()
      await rm(home, { recursive: true, force: true })
    }
  })
})
