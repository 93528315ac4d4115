import { describe, expect, it } from 'vitest'
import { failureCause } from '../../../node/compute/scheduler/failure-cause.ts'
import { AllAttemptsFailedError, ConnectionLostError, DialFailedError, RemoteRpcError } from '../../../protocols/rpc/index.ts'

describe('failure cause of a shard call', () => {
  it('a lost connection or a refused dial is the peer\'s trouble, also inside AllAttemptsFailedError', () => {
    expect(failureCause(new ConnectionLostError('rpc stream to x closed'))).toBe('peer')
    expect(failureCause(new DialFailedError('cannot open an rpc stream'))).toBe('peer')
    expect(failureCause(new AllAttemptsFailedError('primes.count failed after 1 attempt', [{ peer: 'x', error: { name: 'DialFailedError', message: 'refused' } }]))).toBe('peer')
  })

  it('an error the peer raised running the shard, or anything unknown, is the shard\'s', () => {
    expect(failureCause(new RemoteRpcError('WorkerCrashedError', 'the worker exited', 'x'))).toBe('shard')
    expect(failureCause(new AllAttemptsFailedError('primes.count failed after 2 attempts', [
      { peer: 'x', error: { name: 'DialFailedError', message: 'refused' } },
      { peer: 'y', error: { name: 'InvalidArgumentsError', message: 'too wide' } }
    ]))).toBe('shard')
    expect(failureCause(new Error('boom'))).toBe('shard')
    expect(failureCause(undefined)).toBe('shard')
  })
})
