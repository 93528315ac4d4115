import { appendFileSync, readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { afterAll, beforeAll } from 'vitest'

/**
 * With MESH_TEST_CPU_LOG=FILE, appends one JSON line per test file: its wall time and the CPU
 * it used, its own plus its finished children's (the `mesh` processes it started and reaped).
 * `cores` above about 1 marks a file that competes for the CPU; vitest.config.ts keeps such
 * files away from the timing-sensitive ones. Linux only (reads /proc); a no-op elsewhere.
 */
const log = process.env.MESH_TEST_CPU_LOG

/** Linux reports children's times in clock ticks, 100 a second on every common build. */
const TICKS_PER_SECOND = 100

function cpuMs (): number | undefined {
  let stat: string
  try {
    stat = readFileSync('/proc/self/stat', 'utf8')
  } catch {
    return undefined
  }
  // Fields after the command name, which is in parentheses and may hold spaces; cutime and
  // cstime are fields 16 and 17 of the whole line, so 14 and 15 after the name's `)`.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const childrenTicks = Number(fields[13]) + Number(fields[14])
  const self = process.cpuUsage()
  return (self.user + self.system) / 1000 + childrenTicks * 1000 / TICKS_PER_SECOND
}

if (log != null && log !== '') {
  let startedAt = 0
  let cpuAtStart: number | undefined
  beforeAll(() => {
    startedAt = performance.now()
    cpuAtStart = cpuMs()
  })
  // vitest wants the first argument (the context) destructured, even when unused.
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads the hook's parameter list
  afterAll(({}, suite) => {
    const cpuAtEnd = cpuMs()
    if (cpuAtStart == null || cpuAtEnd == null) return
    const wallMs = Math.round(performance.now() - startedAt)
    const usedMs = Math.round(cpuAtEnd - cpuAtStart)
    appendFileSync(log, JSON.stringify({ file: relative(process.cwd(), suite.file.filepath), wallMs, cpuMs: usedMs, cores: Number((usedMs / Math.max(1, wallMs)).toFixed(2)) }) + '\n')
  })
}
