import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BUNDLE_MANIFEST, bundleIsFresh } from '../../../cli/bundle-freshness.js'

describe('the launcher takes the bundle only while no source is newer', () => {
  let root: string
  const builtAt = Date.parse('2026-01-01T12:00:00Z')
  const at = (file: string, ms: number): void => { utimesSync(join(root, file), ms / 1000, ms / 1000) }

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mesh-bundle-'))
    mkdirSync(join(root, 'dist'))
    mkdirSync(join(root, 'node'))
    for (const f of ['cli.ts', 'node/a.ts']) { writeFileSync(join(root, f), '//'); at(f, builtAt - 60_000) }
    writeFileSync(join(root, BUNDLE_MANIFEST), JSON.stringify({ builtAt, sources: ['cli.ts', 'node/a.ts'] }))
  })
  afterEach(() => { rmSync(root, { recursive: true, force: true }) })

  it('fresh when every source is older than the build', () => {
    expect(bundleIsFresh(root, {})).toBe(true)
  })

  it('stale as soon as one source was edited after the build', () => {
    at('node/a.ts', builtAt + 1)
    expect(bundleIsFresh(root, {})).toBe(false)
  })

  it('stale when a source it was built from is gone, or the manifest is missing or broken', () => {
    rmSync(join(root, 'node/a.ts'))
    expect(bundleIsFresh(root, {})).toBe(false)
    writeFileSync(join(root, BUNDLE_MANIFEST), '{"builtAt":')
    expect(bundleIsFresh(root, {})).toBe(false)
    rmSync(join(root, BUNDLE_MANIFEST))
    expect(bundleIsFresh(root, {})).toBe(false)
  })

  it('never with MESH_FROM_SOURCES=1', () => {
    expect(bundleIsFresh(root, { MESH_FROM_SOURCES: '1' })).toBe(false)
  })
})
