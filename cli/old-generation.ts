import { setFlagsFromString } from 'node:v8'

/**
 * How far V8 lets the old generation grow past what its last full collection left live
 * before it collects again, in percent. Left to itself V8 picks the factor from how fast it
 * collects, up to 4x for a small heap like a node's (about 15 MB live). Under a flood of
 * connections that libp2p refuses (hundreds a second from one host), each connection leaves
 * some 16 KB that outlives two scavenges (its logger, message stream, socket and multiaddr
 * objects), promoted to the old generation and dead soon after; with V8's own factor the old
 * generation filled with that garbage to 73-84 MB committed before a full collection, and the
 * process kept the pages: RSS +95 MB after 20 s of flood, +29 MB with 50%. A full collection
 * of a heap this size takes 10-20 ms, so at the flood's rate of promotion (5 MB a second)
 * the extra collections cost about one percent of a core.
 */
export const OLD_GENERATION_GROWTH_PERCENT = 50

/**
 * Holds V8's old-generation growth factor at `percent` for the rest of the process. Read
 * whenever V8 sets the next collection's limit, so setting it at run time works from the
 * next full collection on. With test hooks on, `MESH_OLD_GENERATION_GROWTH=default` leaves
 * V8's own factor, for `bench:hostile --baseline-heap` to compare.
 */
export function holdOldGenerationGrowth (percent = OLD_GENERATION_GROWTH_PERCENT, env: NodeJS.ProcessEnv = process.env): void {
  if (env.MESH_TEST_HOOKS === '1' && env.MESH_OLD_GENERATION_GROWTH === 'default') return
  setFlagsFromString(`--heap-growing-percent=${percent}`)
}
