import { createRequire } from 'node:module'
import type * as PromClient from 'prom-client'

/**
 * prom-client's four classes the node uses, loaded from their own files. Its index also
 * loads the default process metrics and, through them, @opentelemetry/api: about 17 MB of
 * memory and 50 modules a node never uses (it registers no default metrics). The files are
 * prom-client's own CommonJS modules (the package has no `exports` map that hides them); the
 * types are the package's, so a layout change in an upgrade fails here, at load, loudly.
 */
const require = createRequire(import.meta.url)

export const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry
export const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter
export const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge
export const Histogram = require('prom-client/lib/histogram') as typeof PromClient.Histogram
export type Registry = PromClient.Registry
export type Counter = PromClient.Counter
export type Gauge = PromClient.Gauge
export type Histogram = PromClient.Histogram
