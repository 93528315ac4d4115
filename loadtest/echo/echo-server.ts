import type { EchoModel } from './constants.ts'
import type { EchoCounters } from './counters.ts'

export interface EchoServerInit {
  host: string
  /** 0 picks a free port. */
  port: number
  /** cluster: processes; threads: threads; fork: most live children. Unused by event. */
  workers: number
}

/** A running echo server of any model. */
export interface EchoServer {
  readonly model: EchoModel
  readonly host: string
  readonly port: number
  /** The process that owns the listening address (the parent of any children). */
  readonly pid: number
  readonly workers: number
  /** The counters so far, from every process or thread that has reported. */
  counters (): EchoCounters
  /** Stops accepting, closes every connection, waits for children and threads, and returns the totals. */
  stop (): Promise<EchoCounters>
}

/**
 * The handle of a model whose workers (processes or threads) report their counters into
 * `totals`: the parent is the listening process, and stopping returns the totals.
 */
export function pooledServerHandle (model: EchoModel, init: EchoServerInit, port: number, totals: EchoCounters, stopAll: () => Promise<void>): EchoServer {
  return {
    model,
    host: init.host,
    port,
    pid: process.pid,
    workers: init.workers,
    counters: () => ({ ...totals }),
    stop: async () => {
      await stopAll()
      return { ...totals }
    }
  }
}
