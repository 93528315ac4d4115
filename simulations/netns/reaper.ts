import { readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isAlive, listNamespaces, run } from './commands.ts'
import { NAME_PATTERN } from './names.ts'

export interface Reaped {
  namespaces: string[]
  processes: number[]
  folders: string[]
}

/**
 * Removes what runners that are gone left behind (a SIGKILLed runner cannot clean up): the
 * processes still running in their namespaces, the namespaces (their veths, bridge,
 * iptables rules and qdiscs go with them), and their node homes. `keepPid` (this runner)
 * is spared.
 */
export async function reapLeftovers (keepPid = process.pid): Promise<Reaped> {
  const reaped: Reaped = { namespaces: [], processes: [], folders: [] }
  const stale = (name: string): boolean => isStale(name, keepPid)
  const namespaces = (await listNamespaces()).filter(stale)
  // Processes first: a namespace with processes in it lives on after `ip netns delete`.
  for (const ns of namespaces) reaped.processes.push(...await killAllIn(ns))
  for (const ns of namespaces) {
    await run('ip', ['netns', 'delete', ns]).catch(() => {})
    reaped.namespaces.push(ns)
  }
  reaped.folders.push(...await reapStaleFolders(keepPid))
  return reaped
}

/** Node homes of runners that are gone (either tier's: both put `msim<pid>-` in front). */
export async function reapStaleFolders (keepPid = process.pid): Promise<string[]> {
  const folders: string[] = []
  for (const entry of await readdir(tmpdir()).catch(() => [] as string[])) {
    if (!isStale(entry, keepPid)) continue
    await rm(join(tmpdir(), entry), { recursive: true, force: true })
    folders.push(entry)
  }
  return folders
}

function isStale (name: string, keepPid: number): boolean {
  const match = NAME_PATTERN.exec(name)
  if (match == null) return false
  const pid = Number(match[1])
  return pid !== keepPid && !isAlive(pid)
}

/** SIGKILLs every process in `ns` (SIGCONT first: a stopped process is woken so it dies now). */
export async function killAllIn (ns: string): Promise<number[]> {
  const pids = (await run('ip', ['netns', 'pids', ns]).catch(() => '')).split('\n').map(Number).filter(p => p > 0)
  for (const pid of pids) {
    try { process.kill(pid, 'SIGCONT') } catch {}
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
  return pids
}
