import createDebug from 'debug'

/** A namespaced log line writer, off unless DEBUG names its namespace (`DEBUG=mesh:*`). */
export interface Log {
  (formatter: string, ...args: unknown[]): void
  readonly enabled: boolean
}

/** Hands each component of one node its logger; every line carries the node's name. */
export interface MeshLogger {
  forComponent: (name: string) => Log
}

/**
 * Loggers for one node. Namespaces stay `mesh:<component>` so `DEBUG=mesh:membership`
 * keeps working; the prefix (the node's nick) tells apart the nodes that share a process
 * (the in-process simulations, tests) or a terminal.
 */
export function createMeshLogger (prefix?: string): MeshLogger {
  return {
    forComponent: (name) => {
      const debug = createDebug(`mesh:${name}`)
      const log = ((formatter: string, ...args: unknown[]) => {
        if (!debug.enabled) return
        if (prefix == null) debug(formatter, ...args)
        else debug(`[%s] ${formatter}`, prefix, ...args)
      }) as Log
      Object.defineProperty(log, 'enabled', { get: () => debug.enabled })
      return log
    }
  }
}

/** For code built without a node around it (unit tests, one-off tools): no prefix. */
export const defaultLogger: MeshLogger = createMeshLogger()
