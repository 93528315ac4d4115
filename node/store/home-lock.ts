import { readFileSync } from 'node:fs'
import { chmod, mkdir, open, readFile, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'

export const PID_FILE = 'mesh.pid'

export class NodeAlreadyRunningError extends Error {
  override name = 'NodeAlreadyRunningError'
}

/**
 * One node per home: `<home>/mesh.pid` is created exclusively; a pid file whose process is
 * gone (a node killed with -9) is stale and taken over. Returns the release function.
 */
export async function lockHome (home: string): Promise<() => Promise<void>> {
  await mkdir(home, { recursive: true, mode: 0o700 })
  await keepPrivate(home)
  const path = join(home, PID_FILE)
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const file = await open(path, 'wx', 0o600)
      await file.writeFile(`${process.pid}\n`)
      await file.close()
      return async () => { await unlink(path).catch(() => {}) }
    } catch (err: any) {
      if (err?.code !== 'EEXIST') throw err
    }
    const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10)
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isMeshProcess(pid)) {
      throw new NodeAlreadyRunningError(`a node already runs in ${home} (pid ${pid}); stop it first or use another --home`)
    }
    await unlink(path).catch(() => {})
  }
  throw new Error(`cannot lock ${home}: ${path} keeps reappearing`)
}

/**
 * The home holds the node's private key and its chat history: only its owner may enter it.
 * A home made before (or by hand, 0755) is tightened when it is ours; one that belongs to
 * somebody else is left as it is (its owner chose).
 */
async function keepPrivate (home: string): Promise<void> {
  const info = await stat(home)
  if (info.uid === process.getuid?.() && (info.mode & 0o077) !== 0) await chmod(home, info.mode & 0o700)
}

/** Alive, and (where /proc tells) a mesh node rather than an unrelated process that reused the pid. */
function isMeshProcess (pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err: any) {
    return err?.code === 'EPERM'
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    return cmdline.includes('mesh')
  } catch {
    return true
  }
}
