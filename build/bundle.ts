// `npm run bundle` (and `npm ci`, through `prepare`): the CLI and the worker thread bundled
// into dist/, so that `mesh start` loads a few files instead of resolving ~790 modules one by
// one (stat calls and package.json reads for each of libp2p's small files: most of its
// start-up). The sources stay what runs everywhere else (tests, benches, `node cli/mesh.ts`);
// the launcher (cli/mesh.js) takes the bundle only while it is newer than every source file
// it was built from, so an edit never runs stale code: it runs the sources until the next
// bundle. esbuild rather than hand-rolled concatenation: it resolves ESM, splits the lazily
// imported commands into chunks of their own, and writes source maps.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const outdir = `${root}dist`
const MANIFEST = 'bundle-manifest.json'
/** What worker threads and child processes run, by the name node/script-entry.ts looks up. */
const SCRIPTS = {
  'worker-entry': 'node/compute/worker-entry.ts',
  'thread-worker': 'loadtest/echo/thread-worker.ts',
  'fork-child': 'loadtest/echo/fork-child.ts',
  'cluster-worker': 'loadtest/echo/cluster-worker.ts'
}

// Built aside, then moved in file by file: a `mesh` starting meanwhile (tests run while
// `npm install -g .` rebuilds) finds either the old files or the new ones, never a hole.
// Chunk names carry a hash of their content, so an unchanged build replaces files by
// identical ones.
const staging = `${root}dist.new-${process.pid}`
const started = Date.now()
rmSync(staging, { recursive: true, force: true })
const result = await build({
  absWorkingDir: root,
  entryPoints: { run: 'cli/run.ts', ...SCRIPTS },
  outdir: staging,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22.18',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  // Each script a thread or a child process runs is found beside the chunks (node/script-entry.ts).
  define: { MESH_BUNDLED_ENTRIES: JSON.stringify(Object.fromEntries(Object.keys(SCRIPTS).map(name => [name, `./${name}.js`]))) },
  // A few CommonJS packages call require(): give the ES modules one.
  banner: { js: "import { createRequire as __meshCreateRequire } from 'node:module'; const require = __meshCreateRequire(import.meta.url);" }
})

// The launcher checks these files' modification times against the bundle's.
// Files only: a define's value is an input too, named <define:…>.
const sources = Object.keys(result.metafile.inputs).filter(p => !p.includes('node_modules/') && !p.startsWith('<')).sort()
writeFileSync(`${staging}/${MANIFEST}`, JSON.stringify({ builtAt: started, sources }, null, 1) + '\n')
mkdirSync(outdir, { recursive: true })
const built = new Set(readdirSync(staging))
// The manifest last: until it moves in, the launcher judges by the previous one.
for (const file of [...built].filter(f => f !== MANIFEST)) renameSync(`${staging}/${file}`, `${outdir}/${file}`)
renameSync(`${staging}/${MANIFEST}`, `${outdir}/${MANIFEST}`)
for (const file of readdirSync(outdir)) if (!built.has(file) && existsSync(`${outdir}/${file}`)) rmSync(`${outdir}/${file}`, { force: true })
rmSync(staging, { recursive: true, force: true })
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0)
console.log(`bundled ${sources.length} sources and ${Object.keys(result.metafile.inputs).length - sources.length} modules of node_modules into ${relative(root, outdir)}/ (${(bytes / 1e6).toFixed(1)} MB) in ${Date.now() - started} ms`)
