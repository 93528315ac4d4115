/** Commands that need no node and run without loading libp2p (see runCli). */
export const STANDALONE_COMMANDS: ReadonlySet<string> = new Set(['echo', 'loadtest'])
