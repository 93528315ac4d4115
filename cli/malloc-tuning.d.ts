/** Types of malloc-tuning.js, which stays JavaScript so the launcher can run it before any TypeScript. */
export declare const MALLOC_MMAP_THRESHOLD: { name: string, value: string }
export declare function mallocTunedEnv (argv: string[], env?: Record<string, string | undefined>, platform?: string, execArgv?: string[]): Record<string, string | undefined> | null
