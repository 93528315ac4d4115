import type { RpcMethods } from '../rpc/rpc-types.ts'

/**
 * `loadtest.run`: this node runs a share of a load test that a peer spreads over the mesh
 * (`mesh loadtest --spread`) and answers its counts and its encoded latency histogram. The
 * generator is loaded on the first call only. Not idempotent: a retry would run the load twice.
 * Served only by nodes started with `--allow-loadtest`.
 */
export function loadtestMethods (): RpcMethods {
  let running = false
  return {
    run: async (args: unknown) => {
      // One share at a time: each may hold thousands of sockets on this node's event loop.
      if (running) throw new LoadShareBusyError('this node is already running a load test share')
      running = true
      try {
        const { runLoadShare } = await import('../../loadtest/generator/load-share.ts')
        return await runLoadShare(args)
      } finally {
        running = false
      }
    }
  }
}

export class LoadShareBusyError extends Error {
  override name = 'LoadShareBusyError'
}
