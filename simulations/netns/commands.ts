import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** Every command the netns tier runs, with its time: a run can be replayed as a script. */
export type CommandLog = (line: string) => void

/** Runs one command (ip, iptables, tc); throws with its stderr on failure. */
export async function run (cmd: string, args: string[], log?: CommandLog): Promise<string> {
  log?.([cmd, ...args].join(' '))
  try {
    const { stdout } = await execFileAsync(cmd, args, { timeout: 30_000 })
    return stdout
  } catch (err: any) {
    const said = [err?.stderr, err?.stdout].map(t => String(t ?? '').trim()).filter(t => t !== '').join('; ')
    throw new Error(`${cmd} ${args.join(' ')} failed: ${said !== '' ? said : String(err?.message)}`)
  }
}

/**
 * Runs one command reading `input` on its stdin (`ip -batch -`, `iptables-restore`): many
 * changes for the price of one process; throws with its stderr on failure.
 */
export async function runWithInput (cmd: string, args: string[], input: string, log?: CommandLog): Promise<string> {
  log?.(`${[cmd, ...args].join(' ')} <<'EOF'\n${input}EOF`)
  return await new Promise<string>((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err == null) { resolve(stdout); return }
      const said = [stderr, stdout].map(t => String(t ?? '').trim()).filter(t => t !== '').join('; ')
      reject(new Error(`${cmd} ${args.join(' ')} failed: ${said !== '' ? said : String(err.message)}`))
    })
    child.stdin?.end(input)
  })
}

/** A command inside network namespace `ns`. */
export async function runIn (ns: string, cmd: string, args: string[], log?: CommandLog): Promise<string> {
  return await run('ip', ['netns', 'exec', ns, cmd, ...args], log)
}

export async function listNamespaces (): Promise<string[]> {
  // `ip netns list` prints "name" or "name (id: N)".
  return (await run('ip', ['netns', 'list'])).split('\n').map(l => l.trim().split(' ')[0]).filter(l => l !== '')
}

export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err?.code === 'EPERM'
  }
}
