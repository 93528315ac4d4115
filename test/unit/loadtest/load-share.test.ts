import { describe, expect, it } from 'vitest'
import { isLocalNetworkAddress, parseLoadShare, parseLoadShareResult, SHARE_LIMITS } from '../../../loadtest/generator/load-share.ts'

const valid = { host: '127.0.0.1', port: 7100, clients: 10, messages: 5, sizeMin: 32, sizeMax: 32, protocol: 'echo', request: 'prime 7', timeoutMs: 1000 }

describe('a load share from a peer', () => {
  it('accepts loopback and private addresses only', () => {
    for (const host of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.0.9', '::1', 'fd00::1', 'fe80::1']) expect(isLocalNetworkAddress(host)).toBe(true)
    for (const host of ['8.8.8.8', '172.32.0.1', '192.169.0.1', '2001:db8::1', 'example.com', 'localhost', '']) expect(isLocalNetworkAddress(host)).toBe(false)
  })

  it('parses a valid share', () => {
    expect(parseLoadShare(valid)).toMatchObject({ host: '127.0.0.1', port: 7100, clients: 10, messages: 5 })
  })

  it.each([
    ['a public target', { host: '8.8.8.8' }],
    ['too many clients', { clients: SHARE_LIMITS.clients + 1 }],
    ['no end (no messages, no duration)', { messages: undefined }],
    ['a duration too long', { messages: undefined, durationS: SHARE_LIMITS.durationS + 1 }],
    ['a fractional port', { port: 7100.5 }],
    ['an unknown protocol', { protocol: 'http' }],
    ['a multi-line request', { request: 'a\nb' }],
    ['sizes the wrong way round', { sizeMin: 64, sizeMax: 32 }],
    ['a timeout too long', { timeoutMs: SHARE_LIMITS.timeoutMs + 1 }]
  ])('refuses %s with InvalidArgumentsError', (_what, change) => {
    expect(() => parseLoadShare({ ...valid, ...change })).toThrow(expect.objectContaining({ name: 'InvalidArgumentsError' }))
  })

  it('refuses a result without a histogram or with bad counts', () => {
    const result = { clients: 1, messages: 1, sent: 1, seconds: 0.1, errors: {}, histogram: 'x' }
    expect(parseLoadShareResult(result).messages).toBe(1)
    expect(() => parseLoadShareResult({ ...result, histogram: 3 })).toThrow()
    expect(() => parseLoadShareResult({ ...result, messages: -1 })).toThrow()
    expect(() => parseLoadShareResult({ ...result, errors: { reset: 'many' } })).toThrow()
  })
})
