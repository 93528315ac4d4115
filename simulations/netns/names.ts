import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Everything a netns run creates carries `msim<runner pid>`: its namespaces
 * (`msim<pid>-br`, `msim<pid>-h<i>`) and its node homes (`<tmp>/msim<pid>-…`). The pid tells
 * the reaper which leftovers belong to a runner that is gone.
 */
export const SIM_PREFIX = 'msim'
export const NAME_PATTERN = new RegExp(`^${SIM_PREFIX}(\\d+)-`)

export function runTag (pid = process.pid): string {
  return `${SIM_PREFIX}${pid}`
}

export function bridgeNamespace (pid = process.pid): string {
  return `${runTag(pid)}-br`
}

export function hostNamespace (i: number, pid = process.pid): string {
  return `${runTag(pid)}-h${i}`
}

/** Node homes live in the temp folder: short paths, because a unix socket path is limited to ~107 bytes. */
export function homesRoot (pid = process.pid): string {
  return join(tmpdir(), `${runTag(pid)}-homes`)
}

/** The process tier's node homes: the same prefix, so the same reaper removes what a killed run left. */
export function processHomesRoot (pid = process.pid): string {
  return join(tmpdir(), `${runTag(pid)}-proc-homes`)
}

/** The iptables chain the partitions go into, in each host's own tables. */
export const CHAIN = 'MSIM'

/** The chain of random drops that stands in for netem's loss when the kernel has no netem. */
export const LOSS_CHAIN = 'MSIMLOSS'
