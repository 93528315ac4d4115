import type { RpcHandler, RpcMethods } from '../rpc/rpc-types.ts'

/**
 * Test-only switches, read from the environment of `mesh start`, for the integration tests
 * that need a slow peer or a pure client. Nothing sets them in normal use.
 *
 * - MESH_TEST_TASK_DELAY_MS=N: every calc/text/greeter handler waits N ms (abortably)
 *   before answering, so a test can kill the peer in the middle of a call.
 * - MESH_TEST_NO_TASK_SERVICES=1: the node serves no calc/text/greeter at all, so its
 *   calls must go to other peers.
 */
export interface TaskTestHooks {
  delayMs: number
  serve: boolean
}

export function taskTestHooks (env: NodeJS.ProcessEnv = process.env): TaskTestHooks {
  const delay = Number(env.MESH_TEST_TASK_DELAY_MS ?? 0)
  return {
    delayMs: Number.isFinite(delay) && delay > 0 ? Math.min(delay, 60_000) : 0,
    serve: env.MESH_TEST_NO_TASK_SERVICES !== '1'
  }
}

export function withDelay (methods: RpcMethods, delayMs: number): RpcMethods {
  if (delayMs <= 0) return methods
  const slowed: RpcMethods = {}
  for (const [name, handler] of Object.entries(methods)) {
    const slow: RpcHandler = async (args, ctx) => {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, delayMs)
        ctx.signal.addEventListener('abort', () => { clearTimeout(timer); reject(ctx.signal.reason) }, { once: true })
      })
      return handler(args, ctx)
    }
    slowed[name] = slow
  }
  return slowed
}
