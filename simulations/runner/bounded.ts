/**
 * Runs `each` over `items`, at most `limit` at a time, and resolves when all have settled
 * (each handles its own errors). The runner reads a hundred nodes' chat histories at the
 * end: one after another they took a round trip each (seconds on a starved machine, up to a
 * 30 s timeout), and all at once a hundred histories would be built in one turn of the
 * nodes' shared thread.
 */
export async function forEachBounded<T> (items: readonly T[], limit: number, each: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await each(items[next++])
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
