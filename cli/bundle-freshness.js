// Plain JavaScript: the launcher (cli/mesh.js) asks this before any TypeScript is loaded.
import { readFileSync, statSync } from 'node:fs'

/** Written by build/bundle.ts beside the bundle: when it was built, and from which sources. */
export const BUNDLE_MANIFEST = 'dist/bundle-manifest.json'

/**
 * True when the bundle under `root` may run: it exists and no source it was built from has
 * changed since (so an edit runs the sources, never stale code), unless MESH_FROM_SOURCES=1
 * asks for the sources. Any doubt (no manifest, a source gone) is a no. About 200 stat calls.
 */
export function bundleIsFresh (root, env = process.env) {
  if (env.MESH_FROM_SOURCES === '1') return false
  try {
    const { builtAt, sources } = JSON.parse(readFileSync(`${root}/${BUNDLE_MANIFEST}`, 'utf8'))
    if (typeof builtAt !== 'number' || !Array.isArray(sources) || sources.length === 0) return false
    return sources.every(source => statSync(`${root}/${source}`).mtimeMs <= builtAt)
  } catch {
    return false
  }
}
