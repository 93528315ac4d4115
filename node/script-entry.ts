/**
 * Set by the bundler (build/bundle.ts): for each script that a thread or a child process
 * runs, its bundled file beside the bundle's chunks. Absent when the sources run.
 */
declare const MESH_BUNDLED_ENTRIES: Record<string, string> | undefined

/**
 * The script a worker thread or a child process should run: `source` (a URL next to the
 * caller, as `new URL('./x.ts', import.meta.url)`) when the sources run, or its bundled file
 * `name` when the bundle runs, since the bundle's chunks do not sit next to the sources.
 */
export function scriptEntry (name: string, source: URL): URL {
  const bundled = typeof MESH_BUNDLED_ENTRIES === 'object' ? MESH_BUNDLED_ENTRIES[name] : undefined
  return bundled != null ? new URL(bundled, import.meta.url) : source
}

/**
 * A file of the checkout by its path from the root, e.g. `cli/mesh.js`. Right from the
 * sources and from the bundle alike, because this module and the bundle's chunks both sit
 * one folder below the root (node/, dist/): a `new URL('../../x', import.meta.url)` in a
 * deeper source file would point outside the checkout once bundled.
 */
export function checkoutFile (path: string): URL {
  return new URL(`../${path}`, import.meta.url)
}
