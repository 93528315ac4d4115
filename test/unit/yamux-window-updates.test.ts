import { StreamState } from '@chainsafe/libp2p-yamux/stream'
import { describe, expect, it } from 'vitest'
import { windowUpdateDue } from '../../node/libp2p/yamux-window-updates.ts'

const WINDOW = 256 * 1024

describe('windowUpdateDue', () => {
  it('waits until half the receive window is consumed on an established stream', () => {
    expect(windowUpdateDue({ state: StreamState.Established, recvWindow: WINDOW, recvWindowCapacity: WINDOW - 200 })).toBe(false)
    expect(windowUpdateDue({ state: StreamState.Established, recvWindow: WINDOW, recvWindowCapacity: WINDOW / 2 + 1 })).toBe(false)
    expect(windowUpdateDue({ state: StreamState.Established, recvWindow: WINDOW, recvWindowCapacity: WINDOW / 2 })).toBe(true)
    expect(windowUpdateDue({ state: StreamState.Established, recvWindow: WINDOW, recvWindowCapacity: 0 })).toBe(true)
  })

  it('leaves an update that carries a flag, or that a paused stream withholds, to the original path', () => {
    for (const state of [StreamState.Init, StreamState.SYNReceived, StreamState.Paused]) {
      expect(windowUpdateDue({ state, recvWindow: WINDOW, recvWindowCapacity: WINDOW - 1 })).toBe(true)
    }
  })
})
