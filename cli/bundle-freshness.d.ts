/** Types of bundle-freshness.js, which stays JavaScript so the launcher can run it before any TypeScript. */
export declare const BUNDLE_MANIFEST: string
export declare function bundleIsFresh (root: string, env?: Record<string, string | undefined>): boolean
