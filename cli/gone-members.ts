/**
 * A dead or left member stays listed this long, so a departure can be seen; after it only
 * `mesh peers --all` (or `/peers all`) shows it, until the node forgets it altogether
 * (`mesh start --reap-after`).
 */
export const GONE_LISTED_MS = 60_000

export const isGoneState = (state: string): boolean => state === 'dead' || state === 'left'

/** True for a member dead or left for longer than GONE_LISTED_MS. */
export const goneLongAgo = (state: string, stateForMs: number): boolean => isGoneState(state) && stateForMs > GONE_LISTED_MS
