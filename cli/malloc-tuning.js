// Plain JavaScript: the launcher (cli/mesh.js) asks this before any TypeScript is loaded.

/**
 * glibc's malloc setting that a long-running node starts with: blocks from 128 KiB up are
 * mapped on their own and go back to the system when freed. That is glibc's initial
 * threshold, but glibc raises it after the first such block is freed (up to 32 MB, and its
 * trim threshold to twice that), and from then on such blocks come from the allocating
 * thread's arena, where their pages stay resident once freed. Measured on a node counting
 * [1e12, 1e12+1e10] on one worker thread: the arenas (the heaps glibc gives threads other
 * than the main one: the worker, V8's background threads) grew by 7-9 MB, by 2-4 MB with the
 * threshold fixed; the worker's extra RSS +15.9 to +20.9 MB against +21.9 to +24.4 MB (five
 * pairs, `npm run bench:startup -- --only busy --busy-runs 5`). Any value set explicitly
 * turns the raising off; this one keeps glibc's own default.
 */
export const MALLOC_MMAP_THRESHOLD = { name: 'MALLOC_MMAP_THRESHOLD_', value: '131072' }

/** The commands that run a node for good: a few milliseconds of restart are nothing to them. */
const LONG_RUNNING = new Set(['start'])

/**
 * The environment `mesh ARGV…` should run in if it must start over to get the malloc setting
 * (glibc reads it once, at the process's first allocation, so only a new program image can
 * change it), or null to go on as it is. Null when: not Linux (no glibc); a short command
 * (the restart costs one more Node start-up, 20-35 ms of CPU); the threshold already given,
 * as a variable or a glibc tunable (the restarted process itself, or a user's own choice);
 * MESH_MALLOC_DEFAULTS=1 (glibc as it comes: `npm run bench:startup` compares the two);
 * Node run with --inspect (the debugger would lose the process it attached to).
 */
export function mallocTunedEnv (argv, env = process.env, platform = process.platform, execArgv = process.execArgv) {
  if (platform !== 'linux' || env.MESH_MALLOC_DEFAULTS === '1') return null
  if (execArgv.some(arg => arg.startsWith('--inspect'))) return null
  if (!LONG_RUNNING.has(argv[2])) return null
  if (env[MALLOC_MMAP_THRESHOLD.name] != null || env.GLIBC_TUNABLES?.includes('glibc.malloc.mmap_threshold')) return null
  return { ...env, [MALLOC_MMAP_THRESHOLD.name]: MALLOC_MMAP_THRESHOLD.value }
}
