import { readdirSync, readFileSync, type Dirent } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
/** What the bundle (build/bundle.ts) is built from. */
const BUNDLED_FOLDERS = ['cli', 'node', 'loadtest', 'protocols', 'simulations']

function sourcesIn (dir: string): string[] {
  let entries: Dirent[]
  try { entries = readdirSync(dir, { withFileTypes: true }) } catch { return [] }
  return entries.flatMap(e => e.isDirectory() ? sourcesIn(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])
}

/**
 * In the bundle every module's `import.meta.url` is a chunk in dist/, not its source file, so
 * a path built from it points elsewhere. Allowed: createRequire (resolves node_modules from
 * anywhere in the checkout), a thread's or child's script through scriptEntry (bundled
 * beside the chunks), and files one folder below the root, as dist/'s chunks are (checkoutFile
 * is how a deeper file names a checkout file).
 */
describe('paths that survive bundling', () => {
  it('no source builds a path from import.meta.url that the bundle would break', () => {
    const offenders: string[] = []
    for (const file of BUNDLED_FOLDERS.flatMap(f => sourcesIn(join(ROOT, f)))) {
      const path = relative(ROOT, file)
      if (path.split('/').length === 2) continue
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        if (!line.includes('import.meta.url') || /^\s*(\/\/|\*)/.test(line)) return
        if (/createRequire\(import\.meta\.url\)|scriptEntry\('[\w-]+', new URL\('\.\/[\w-]+\.ts', import\.meta\.url\)\)/.test(line)) return
        offenders.push(`${path}:${i + 1}: ${line.trim()}`)
      })
    }
    expect(offenders).toEqual([])
  })
})
