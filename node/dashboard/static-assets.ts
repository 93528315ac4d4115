import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkoutFile } from '../script-entry.ts'

/** The page's own files: HTML, CSS and browser modules, served as they are (no build step). */
const PUBLIC_DIR = fileURLToPath(checkoutFile('node/dashboard/public/'))
const PAGE_FILES = ['index.html', 'dashboard.css', 'app.js', 'dom.js', 'feed.js', 'members-panel.js', 'chat-panel.js', 'jobs-panel.js', 'graph-panel.js', 'charts-panel.js']

const require = createRequire(import.meta.url)
/** A d3 package's dist folder: its exports map names the ES module there, beside the UMD build served here. */
const d3Dist = (name: string): string => dirname(require.resolve(name))

/**
 * The libraries, from node_modules under fixed paths: the page works with no network but
 * the node's, and the versions are the lockfile's. The d3-force UMD build expects its three
 * dependencies on the same global `d3`, loaded first.
 */
function libraryFiles (): Record<string, string> {
  return {
    '/lib/d3-dispatch.js': join(d3Dist('d3-dispatch'), 'd3-dispatch.min.js'),
    '/lib/d3-quadtree.js': join(d3Dist('d3-quadtree'), 'd3-quadtree.min.js'),
    '/lib/d3-timer.js': join(d3Dist('d3-timer'), 'd3-timer.min.js'),
    '/lib/d3-force.js': join(d3Dist('d3-force'), 'd3-force.min.js'),
    '/lib/uplot.js': require.resolve('uplot/dist/uPlot.iife.min.js'),
    '/lib/uplot.css': require.resolve('uplot/dist/uPlot.min.css')
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8'
}

/**
 * The page runs only what this node serves: no inline script or style, no other origin,
 * not inside a frame (so another site cannot overlay it to trick a click).
 */
export const PAGE_SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer'
}

export interface Asset {
  body: Buffer
  type: string
}

/**
 * A fixed map from URL path to file, read once and kept: nothing a request names reaches the
 * file system beyond this list.
 */
export class StaticAssets {
  private readonly files: Map<string, string>
  private readonly cache = new Map<string, Promise<Asset>>()

  constructor () {
    this.files = new Map(Object.entries(libraryFiles()))
    this.files.set('/', join(PUBLIC_DIR, 'index.html'))
    for (const name of PAGE_FILES) this.files.set(`/${name}`, join(PUBLIC_DIR, name))
  }

  has (path: string): boolean {
    return this.files.has(path)
  }

  async get (path: string): Promise<Asset | undefined> {
    const file = this.files.get(path)
    if (file == null) return undefined
    let asset = this.cache.get(path)
    if (asset == null) {
      asset = readFile(file).then(body => ({ body, type: TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream' }))
      // A failed read is not cached: the next request tries again.
      asset.catch(() => { this.cache.delete(path) })
      this.cache.set(path, asset)
    }
    return await asset
  }
}
