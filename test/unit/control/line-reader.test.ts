import { describe, expect, it } from 'vitest'
import { ControlLineTooLongError, readLines } from '../../../protocols/control/index.ts'

async function collect (chunks: Buffer[], maxBytes?: number): Promise<string[]> {
  const lines: string[] = []
  for await (const line of readLines((async function * () { yield * chunks })(), maxBytes)) lines.push(line)
  return lines
}

describe('control line reader', () => {
  it('keeps a character that a chunk boundary splits in two', async () => {
    const bytes = Buffer.from('{"text":"héllo ✓ wörld"}\nlast ✓')
    // Every cut point, including those inside the two- and three-byte characters.
    for (let cut = 1; cut < bytes.byteLength; cut++) {
      expect(await collect([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(['{"text":"héllo ✓ wörld"}', 'last ✓'])
    }
  })

  it('refuses a line longer than the limit', async () => {
    await expect(collect([Buffer.alloc(100, 0x61)], 10)).rejects.toThrow(ControlLineTooLongError)
  })
})
