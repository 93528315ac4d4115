import type { RpcMethods } from '../rpc/rpc-types.ts'

/**
 * `loadtest.run`: this node runs a share of a load test that a peer spreads over the mesh
 * (`mesh loadtest --spread`) and answers its counts and its encoded latency histogram. The
 * generator is loaded on the first call only. Not idempotent: a retry would run the load twice.
 */
export function loadtestMethods (): RpcMethods {
  return {
    run: async (args: unknown) => {
      const { runLoadShare } = await import('../../loadtest/generator/load-share.ts')
      return await runLoadShare(args)
    }
  }
}
