import type { Stream, StreamHandler } from '@libp2p/interface'
import { lpStream, streamPair } from '@libp2p/utils'
import type { Member } from '../../../node/membership/member.ts'
import { decodeChatMessage, encodeDmAck } from '../../../protocols/chat/index.ts'

/** How the fake recipient answers one DM: an ack, or a dial that fails (peer away). */
export type DmAnswer = { ok: true } | { ok: false, reason: string } | 'unreachable'

/**
 * The stream half of libp2p, with a DM recipient at the other end of every dial that
 * answers as the test says (unreachable once the answers run out), and a record of what
 * was registered.
 */
export class FakeStreams {
  readonly handlers = new Map<string, StreamHandler>()
  handleCalls = 0
  dials = 0
  answers: DmAnswer[] = []
  /** While set, a dial waits for it before answering (a dial in flight). */
  hold: Promise<void> | null = null

  handle = async (protocol: string | string[], handler: StreamHandler): Promise<void> => {
    this.handleCalls++
    this.handlers.set(String(protocol), handler)
  }

  unhandle = async (protocol: string | string[]): Promise<void> => {
    this.handlers.delete(String(protocol))
  }

  getConnections = (): [] => []

  dialProtocol = async (): Promise<Stream> => {
    this.dials++
    if (this.hold != null) await this.hold
    const answer = this.answers.shift() ?? 'unreachable'
    if (answer === 'unreachable') throw new Error('connection refused')
    const [local, remote] = await streamPair()
    void (async () => {
      const lp = lpStream(remote)
      const { id } = decodeChatMessage((await lp.read()).subarray())
      await lp.write(encodeDmAck({ v: 1, id, ...answer }))
      await remote.close()
    })().catch(() => {})
    return local
  }
}

/** A member as the table holds it, with the fields chat reads. */
export function member (id: string, nick: string, state: Member['state'] = 'alive'): Member {
  return { id, nick, state, incarnation: 1, seq: 1, workers: { total: 1, free: 1 }, queue: 0, load: 0, services: [], roles: [], version: '0', addrs: [], lastSeenAt: 0, stateSince: 0 }
}

/** Lets the stream pair's real timers and the promise callbacks they start run. */
export async function settle (ms = 30): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
