import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeMembershipMessage, type MembershipMessage } from '../../../protocols/membership/index.ts'

export async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

type Listener = (event: CustomEvent<any>) => void

/**
 * Event listeners kept in plain lists, so a listener added twice is held twice (and fires
 * twice), which is what a Startable that starts twice must not cause.
 */
export class FakeEvents {
  readonly listeners = new Map<string, Listener[]>()

  addEventListener = (type: string, listener: Listener): void => {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener])
  }

  removeEventListener = (type: string, listener: Listener): void => {
    const list = this.listeners.get(type) ?? []
    const i = list.indexOf(listener)
    if (i >= 0) list.splice(i, 1)
  }

  count (type: string): number {
    return this.listeners.get(type)?.length ?? 0
  }

  /** Listeners of every type together: zero once a service has stopped. */
  total (): number {
    let n = 0
    for (const list of this.listeners.values()) n += list.length
    return n
  }

  dispatch (type: string, detail: unknown): void {
    for (const listener of [...(this.listeners.get(type) ?? [])]) listener(new CustomEvent(type, { detail }))
  }
}

/** The part of gossipsub membership uses, recording what is published. */
export class FakePubsub extends FakeEvents {
  readonly topicValidators = new Map<string, (from: unknown, msg: any) => unknown>()
  readonly subscribed = new Set<string>()
  readonly published: MembershipMessage[] = []

  subscribe = (topic: string): void => { this.subscribed.add(topic) }
  unsubscribe = (topic: string): void => { this.subscribed.delete(topic) }
  publish = async (_topic: string, data: Uint8Array): Promise<unknown> => {
    this.published.push(decodeMembershipMessage(data))
    return { recipients: [] }
  }

  /**
   * Hands `message`, signed by `from` and relayed by `relay` (default `from`), to the topic's
   * validator as gossipsub does, and delivers it only if accepted; returns the verdict
   * ('accept' with no validator). Only an accepted message would be passed on to other peers.
   */
  deliver (topic: string, from: PeerId, data: Uint8Array, relay: PeerId = from): string {
    const msg = { type: 'signed', topic, from, data, sequenceNumber: 1n, signature: new Uint8Array(), key: new Uint8Array() }
    const verdict = String(this.topicValidators.get(topic)?.(relay, msg) ?? 'accept')
    if (verdict === 'accept') this.dispatch('message', msg)
    return verdict
  }
}
