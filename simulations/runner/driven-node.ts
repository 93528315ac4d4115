import type { Fault } from '../plan/plan.ts'

/**
 * A node as the workload, the observer and the final reads see it: an index, a home whose
 * control socket answers, a peer id. A real process in a namespace (SimNode) or a node in
 * the runner's own process (InProcessNode).
 */
export interface DrivenNode {
  readonly opts: { readonly index: number, readonly home: string }
  readonly name: string
  peerId: string
  readonly running: boolean
  /** Paused now, and how many times so far (only the netns tier pauses). */
  stopped: boolean
  stops: number
}

/** What the run needs of a tier's nemesis. */
export interface TierNemesis {
  /** Nodes paused now: their clients make no calls. */
  readonly paused: ReadonlySet<number>
  /** Whether any fault is still in force. */
  readonly broken: boolean
  apply: (fault: Fault, final?: boolean) => Promise<void>
  /** Undoes whatever is still broken (Jepsen's final generator). */
  healAll: () => Promise<void>
}
