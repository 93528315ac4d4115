import { describe, expect, it } from 'vitest'
import { MALLOC_MMAP_THRESHOLD, mallocTunedEnv } from '../../../cli/malloc-tuning.js'

const argv = (...args: string[]): string[] => ['/usr/bin/node', '/x/cli/mesh.js', ...args]

describe('the launcher restarts `mesh start` with glibc malloc’s mmap threshold fixed', () => {
  it('for `mesh start` on Linux: the same environment plus the setting', () => {
    const env = mallocTunedEnv(argv('start', '--name', 'alice'), { HOME: '/home/a', MESH_HOME: '/tmp/a' }, 'linux', [])
    expect(env).toEqual({ HOME: '/home/a', MESH_HOME: '/tmp/a', [MALLOC_MMAP_THRESHOLD.name]: MALLOC_MMAP_THRESHOLD.value })
    expect(MALLOC_MMAP_THRESHOLD).toEqual({ name: 'MALLOC_MMAP_THRESHOLD_', value: '131072' })
  })

  it('not again once the setting is there: the restarted process goes on', () => {
    const restarted = mallocTunedEnv(argv('start'), {}, 'linux')
    expect(restarted).not.toBeNull()
    expect(mallocTunedEnv(argv('start'), restarted!, 'linux')).toBeNull()
  })

  it('not for the short commands, which would pay a second Node start-up for nothing', () => {
    for (const args of [['peers'], ['id', '--json'], ['--version'], ['chat', 'send', 'start'], ['primes', 'count', '1', '1e9'], []]) {
      expect(mallocTunedEnv(argv(...args), {}, 'linux')).toBeNull()
    }
  })

  it('not off Linux, and not over what the user set', () => {
    expect(mallocTunedEnv(argv('start'), {}, 'darwin')).toBeNull()
    expect(mallocTunedEnv(argv('start'), {}, 'win32')).toBeNull()
    expect(mallocTunedEnv(argv('start'), { MALLOC_MMAP_THRESHOLD_: '1048576' }, 'linux')).toBeNull()
    expect(mallocTunedEnv(argv('start'), { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536' }, 'linux')).toBeNull()
    expect(mallocTunedEnv(argv('start'), { MESH_MALLOC_DEFAULTS: '1' }, 'linux')).toBeNull()
    // A debugger would lose the process it attached to.
    expect(mallocTunedEnv(argv('start'), {}, 'linux', ['--inspect-brk=9229'])).toBeNull()
    expect(mallocTunedEnv(argv('start'), {}, 'linux', ['--import', 'hook.js'])).not.toBeNull()
    // Another tunable of the user's is kept, and the setting joins it.
    expect(mallocTunedEnv(argv('start'), { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, 'linux')).toMatchObject({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2', MALLOC_MMAP_THRESHOLD_: '131072' })
  })
})
