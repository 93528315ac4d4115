import { writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { WorkFailedError } from '../errors.ts'

/** `mesh swarm-key FILE`: write a new private-mesh key for `mesh start --swarm-key FILE`. */
export function registerSwarmKeyCommand (program: Command): void {
  program.command('swarm-key <file>')
    .description('write a new private-mesh key; give the same file to every node with --swarm-key')
    .action(async (file: string) => {
      // libp2p is loaded only by the commands that need it.
      const { generateKey } = await import('@libp2p/pnet')
      const key = new Uint8Array(95)
      generateKey(key)
      try {
        await writeFile(file, key, { mode: 0o600, flag: 'wx' })
      } catch (err: any) {
        throw new WorkFailedError(err?.code === 'EEXIST' ? `${file} exists; not overwriting a key` : `cannot write ${file}: ${err?.message}`)
      }
      process.stdout.write(`wrote a new swarm key to ${file}\n`)
    })
}
