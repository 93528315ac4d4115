import { generateKeyPair } from '@libp2p/crypto/keys'
import { describe, expect, it } from 'vitest'
import { shareSignatureChecks } from '../../../simulations/runner/shared-signature-checks.ts'

describe('shared signature checks (process tier)', () => {
  it('a valid signature stays valid for every node; a forged one is refused every time', async () => {
    await shareSignatureChecks()
    const key = await generateKeyPair('Ed25519')
    const data = new TextEncoder().encode('heartbeat of n7')
    const signature = await key.sign(data)
    for (let i = 0; i < 3; i++) expect(await key.publicKey.verify(data, signature)).toBe(true)
    const forged = Uint8Array.from(signature)
    forged[0] ^= 1
    for (let i = 0; i < 3; i++) expect(await key.publicKey.verify(data, forged)).toBe(false)
    // The same signature over other bytes, or under another key, is not taken for the remembered one.
    expect(await key.publicKey.verify(new TextEncoder().encode('heartbeat of n8'), signature)).toBe(false)
    const other = await generateKeyPair('Ed25519')
    expect(await other.publicKey.verify(data, signature)).toBe(false)
  })
})
