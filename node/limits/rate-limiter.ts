import { systemClock, type Clock } from '../time/clock.ts'

export interface RateLimiterComponents {
  clock?: Pick<Clock, 'now'>
}

export interface RateLimiterInit {
  /** Tokens added per second. */
  ratePerSecond: number
  /** Bucket size: how many may come at once after a quiet spell. */
  burst: number
  /** Buckets kept; the least recently used goes first, so a swarm of ids cannot grow memory. */
  maxKeys?: number
}

/** Ten thousand peers is far beyond a LAN mesh; a bucket is a few dozen bytes. */
const DEFAULT_MAX_KEYS = 10_000

interface Bucket {
  tokens: number
  at: number
}

/** Token buckets per key (a peer id): what a peer may send per second. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>()
  private readonly rate: number
  private readonly burst: number
  private readonly clock: Pick<Clock, 'now'>
  private readonly maxKeys: number

  constructor (components: RateLimiterComponents, init: RateLimiterInit) {
    if (!(init.ratePerSecond > 0)) throw new RangeError('ratePerSecond must be above 0')
    if (!(init.burst >= 1)) throw new RangeError('burst must be at least 1')
    this.rate = init.ratePerSecond
    this.burst = init.burst
    this.clock = components.clock ?? systemClock
    this.maxKeys = init.maxKeys ?? DEFAULT_MAX_KEYS
  }

  /** Takes `cost` tokens (one by default) for `key` if it has them. */
  tryTake (key: string, cost = 1): boolean {
    const bucket = this.refill(key)
    if (bucket.tokens < cost) return false
    bucket.tokens -= cost
    return true
  }

  /** Ms until `key` has a token again (0 if it has one now). */
  waitMs (key: string): number {
    const bucket = this.refill(key)
    return bucket.tokens >= 1 ? 0 : Math.ceil((1 - bucket.tokens) * 1000 / this.rate)
  }

  private refill (key: string): Bucket {
    const now = this.clock.now()
    let bucket = this.buckets.get(key)
    if (bucket == null) {
      bucket = { tokens: this.burst, at: now }
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string)
    } else {
      this.buckets.delete(key)
      bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.rate / 1000)
      bucket.at = now
    }
    this.buckets.set(key, bucket)
    return bucket
  }
}
