/**
 * A grudge, as in Jepsen: for each node, the nodes whose packets it drops. Every partition
 * shape is one, including the non-transitive ones (bridge, majorities-ring), and the netns
 * tier compiles it straight into iptables INPUT rules.
 */
export type Grudge = Record<number, number[]>

/** Every node of each component drops every node outside it. */
export function completeGrudge (components: number[][]): Grudge {
  const all = components.flat()
  const grudge: Grudge = {}
  for (const component of components) {
    for (const node of component) grudge[node] = all.filter(other => !component.includes(other)).sort((a, b) => a - b)
  }
  return grudge
}

/** Splits the (already shuffled) nodes into two halves, the smaller first. */
export function bisect (nodes: number[]): [number[], number[]] {
  const half = Math.floor(nodes.length / 2)
  return [nodes.slice(0, half), nodes.slice(half)]
}

/** One node against the rest. */
export function isolateOne (nodes: number[], node: number): Grudge {
  return completeGrudge([[node], nodes.filter(n => n !== node)])
}

/**
 * Two halves that cannot see each other plus one node (the first of `shuffled`) that sees
 * both: reachability is not transitive.
 */
export function bridgeGrudge (shuffled: number[]): Grudge {
  const [bridge, ...rest] = shuffled
  const [a, b] = bisect(rest)
  const grudge = completeGrudge([a, b])
  grudge[bridge] = []
  return grudge
}

/**
 * Nodes in a ring (the order of `shuffled`); each sees itself and its nearest neighbours up
 * to a bare majority, so every node sees a majority and no two see the same one.
 */
export function majoritiesRingGrudge (shuffled: number[]): Grudge {
  const n = shuffled.length
  const majority = Math.floor(n / 2) + 1
  const grudge: Grudge = {}
  for (let i = 0; i < n; i++) {
    const sees = new Set<number>()
    // A window of `majority` ring positions around i (more on the left when even).
    const left = Math.floor((majority - 1) / 2)
    for (let k = -left; k < majority - left; k++) sees.add(shuffled[(i + k + n) % n])
    grudge[shuffled[i]] = shuffled.filter(x => !sees.has(x)).sort((a, b) => a - b)
  }
  return grudge
}

/** True when `a` and `b` cannot exchange packets in both directions under `grudge`. */
export function cut (grudge: Grudge, a: number, b: number): boolean {
  return (grudge[a]?.includes(b) ?? false) || (grudge[b]?.includes(a) ?? false)
}

/** The grudge's pairs (a, b), a < b, that it cuts. */
export function cutPairs (grudge: Grudge, nodes: number): Array<[number, number]> {
  const pairs: Array<[number, number]> = []
  for (let a = 0; a < nodes; a++) {
    for (let b = a + 1; b < nodes; b++) if (cut(grudge, a, b)) pairs.push([a, b])
  }
  return pairs
}
