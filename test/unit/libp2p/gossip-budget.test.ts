import { describe, expect, it } from 'vitest'
import { GossipBudget, MEMBERSHIP_BUDGET, type GossipDropReason, type TopicKind } from '../../../node/libp2p/gossip-budget.ts'
import { FakeClock } from '../../../node/time/fake-clock.ts'
import { chatTopic } from '../../../protocols/chat/index.ts'
import { MEMBERSHIP_TOPIC } from '../../../protocols/membership/index.ts'

const LOBBY = chatTopic('lobby')
const SUBSCRIBED = new Set([MEMBERSHIP_TOPIC, LOBBY])

function budgetWithDrops (clock: FakeClock): { budget: GossipBudget, drops: Array<[TopicKind, GossipDropReason]> } {
  const drops: Array<[TopicKind, GossipDropReason]> = []
  const budget = new GossipBudget({ clock }, { onDropped: (kind, reason) => { drops.push([kind, reason]) } })
  return { budget, drops }
}

describe('GossipBudget', () => {
  it('cuts a burst from one peer at its membership budget, and only that peer on that topic', () => {
    const clock = new FakeClock(0)
    const { budget, drops } = budgetWithDrops(clock)
    let passed = 0
    for (let i = 0; i < 10_000; i++) if (budget.admit('flooder', MEMBERSHIP_TOPIC, SUBSCRIBED) == null) passed++
    expect(passed).toBe(MEMBERSHIP_BUDGET.burst)
    expect(drops.length).toBe(10_000 - MEMBERSHIP_BUDGET.burst)
    expect(drops.every(([kind, reason]) => kind === 'membership' && reason === 'over-budget')).toBe(true)
    // Another peer, and the same peer on a chat room, have budgets of their own.
    expect(budget.admit('honest', MEMBERSHIP_TOPIC, SUBSCRIBED)).toBeUndefined()
    expect(budget.admit('flooder', LOBBY, SUBSCRIBED)).toBeUndefined()
  })

  it('never drops what an honest relay of a 100-node mesh forwards, even bunched into one instant a second', async () => {
    const clock = new FakeClock(0)
    const { budget, drops } = budgetWithDrops(clock)
    for (let second = 0; second < 120; second++) {
      // Every member's heartbeat, and after a failure a suspect claim from each member too.
      const messages = second % 30 === 0 ? 200 : 100
      for (let i = 0; i < messages; i++) budget.admit('relay', MEMBERSHIP_TOPIC, SUBSCRIBED)
      await clock.advance(1000)
    }
    expect(drops).toEqual([])
  })

  it('drops messages on a topic this node is not in, whatever the budget', () => {
    const { budget, drops } = budgetWithDrops(new FakeClock(0))
    expect(budget.admit('peer', chatTopic('elsewhere'), SUBSCRIBED)).toBe('not-subscribed')
    expect(budget.admit('peer', 'some/other/topic', SUBSCRIBED)).toBe('not-subscribed')
    expect(drops).toEqual([['chat', 'not-subscribed'], ['other', 'not-subscribed']])
  })
})
