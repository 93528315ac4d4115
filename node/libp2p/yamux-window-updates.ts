import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

/**
 * Yamux flow control is credit-based: a receiver grants its sender a window of bytes and tops
 * it up with WindowUpdate frames. @chainsafe/libp2p-yamux 8 tops it up after every data frame
 * it receives, so every small message (a gossip RPC, a chat push, an rpc call) costs a second
 * frame going back: one more Noise encryption and socket write on the receiver, one more
 * decryption on the sender, for a credit the sender had no use for yet.
 *
 * go-yamux and rust-yamux send an update only once half of the receive window (or more) has
 * been consumed; this does the same. The sender then always holds at least half a window of
 * credit (128 KiB with the initial 256 KiB window), so it never waits for an update while the
 * receiver keeps reading, and a bulk transfer gets an update every half window, early enough
 * to keep its sender busy. The window growth upstream does when a window is used up within
 * four round trips still runs, now measured per half window, as in go-yamux.
 *
 * Updates that carry flags (the ACK of a stream this side accepted, the SYN of one it opens)
 * and a paused stream (which withholds updates on purpose) keep the original path.
 */

/** A stream's own fields that upstream marks private; only read here. */
interface ReceiveWindow {
  state: StreamState
  recvWindow: number
  recvWindowCapacity: number
}

type SendWindowUpdate = (this: YamuxStream) => void

const PATCHED = Symbol.for('mesh.yamux.halfWindowUpdates')

/** States in which the next frame this side sends carries a flag, or no update is wanted. */
const ORIGINAL_PATH_STATES: ReadonlySet<StreamState> = new Set([StreamState.Init, StreamState.SYNReceived, StreamState.Paused])

/** Whether the receive window is consumed enough (or the state special enough) to send an update now. */
export function windowUpdateDue (stream: ReceiveWindow): boolean {
  if (ORIGINAL_PATH_STATES.has(stream.state)) return true
  const consumed = stream.recvWindow - stream.recvWindowCapacity
  return consumed >= stream.recvWindow / 2
}

/**
 * Makes every Yamux stream of this process send window updates only when due (see above).
 * Idempotent. With the test hooks on, `MESH_YAMUX_UPDATE_EVERY_FRAME=1` leaves upstream's
 * behaviour in place: how the benches compare both on one machine.
 */
export function sendWindowUpdatesAtHalfWindow (env: NodeJS.ProcessEnv = process.env): void {
  if (env.MESH_TEST_HOOKS === '1' && env.MESH_YAMUX_UPDATE_EVERY_FRAME === '1') return
  const proto = YamuxStream.prototype as unknown as Record<PropertyKey, unknown>
  if (proto[PATCHED] === true) return
  const original = proto.sendWindowUpdate as SendWindowUpdate | undefined
  // A Yamux release that renames the method: keep its own behaviour rather than break streams.
  if (typeof original !== 'function') return
  proto.sendWindowUpdate = function sendWindowUpdateWhenDue (this: YamuxStream): void {
    if (!windowUpdateDue(this as unknown as ReceiveWindow)) return
    original.call(this)
  }
  proto[PATCHED] = true
}

/** Whether the streams of this process send window updates at half a window (for tests and benches). */
export function halfWindowUpdatesActive (): boolean {
  return (YamuxStream.prototype as unknown as Record<PropertyKey, unknown>)[PATCHED] === true
}
