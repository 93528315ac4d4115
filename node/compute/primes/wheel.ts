/**
 * The mod-30 wheel shared by every part of the sieve.
 *
 * One sieve byte stands for 30 consecutive numbers; only the 8 of them coprime to 30 can be
 * prime, so bit j of byte i is the number `low + 30 * i + RESIDUES[j]` (`low` a multiple of 30).
 * That is 8/15 of the memory of an odd-only bit array, so more numbers fit in the L1 cache.
 */
export const RESIDUES: readonly number[] = [1, 7, 11, 13, 17, 19, 23, 29]

/** Numbers one sieve byte stands for. */
export const BYTE_SPAN = 30

/** Bit index of a residue mod 30, or -1 when the residue shares a factor with 30. */
export const BIT_OF_RESIDUE = new Int8Array(30).fill(-1)
for (let j = 0; j < 8; j++) BIT_OF_RESIDUE[RESIDUES[j]] = j

/**
 * A sieving prime p = 30q + r crosses off p * m for cofactors m coprime to 30 only; m walks the
 * same 8 residues. With `rIndex` = BIT_OF_RESIDUE[r] and wheel index k (m % 30 == RESIDUES[k]):
 * - CLEAR_MASK[rIndex * 8 + k] clears the bit of p * m in its byte;
 * - the next multiple is `q * COFACTOR_GAP[k] + BYTE_CARRY[rIndex * 8 + k]` bytes further, at
 *   wheel index (k + 1) & 7.
 */
export const COFACTOR_GAP = new Int32Array([6, 4, 2, 4, 2, 4, 6, 2])
export const CLEAR_MASK = new Uint8Array(64)
export const BYTE_CARRY = new Int32Array(64)

const COFACTORS_WITH_NEXT_PERIOD = [1, 7, 11, 13, 17, 19, 23, 29, 31]
for (let ri = 0; ri < 8; ri++) {
  const r = RESIDUES[ri]
  for (let k = 0; k < 8; k++) {
    const m = COFACTORS_WITH_NEXT_PERIOD[k]
    const next = COFACTORS_WITH_NEXT_PERIOD[k + 1]
    CLEAR_MASK[ri * 8 + k] = ~(1 << BIT_OF_RESIDUE[(r * m) % 30]) & 0xff
    BYTE_CARRY[ri * 8 + k] = Math.floor((r * next) / 30) - Math.floor((r * m) / 30)
  }
}

/**
 * For a cofactor m, `m + COPRIME_DELTA[m % 30]` is the smallest m' >= m coprime to 30, and its
 * wheel index is WHEEL_INDEX_AFTER[m % 30].
 */
export const COPRIME_DELTA = new Int8Array(30)
export const WHEEL_INDEX_AFTER = new Int8Array(30)
for (let x = 0; x < 30; x++) {
  let d = 0
  while (BIT_OF_RESIDUE[(x + d) % 30] < 0) d++
  COPRIME_DELTA[x] = d
  WHEEL_INDEX_AFTER[x] = BIT_OF_RESIDUE[(x + d) % 30]
}

/**
 * For a prime p (p % 30 = r) and a multiple n = p * m (n % 30 = s), at [r * 30 + s]:
 * COFACTOR_STEP, how many p's to add to reach the first cofactor >= m coprime to 30, and
 * STEPPED_WHEEL_INDEX, that cofactor's wheel index. A table instead of a loop: the loop's exit
 * is a mispredicted branch for most primes.
 */
export const COFACTOR_STEP = new Uint8Array(900)
export const STEPPED_WHEEL_INDEX = new Uint8Array(900)
for (const r of RESIDUES) {
  const inverse = RESIDUES.find((x) => (x * r) % 30 === 1) ?? 1
  for (let s = 0; s < 30; s++) {
    const m = (s * inverse) % 30
    COFACTOR_STEP[r * 30 + s] = COPRIME_DELTA[m]
    STEPPED_WHEEL_INDEX[r * 30 + s] = WHEEL_INDEX_AFTER[m]
  }
}

/** Number of set bits in each byte value. */
export const BYTE_POPCOUNT = new Uint8Array(256)
/** Sum of RESIDUES[j] over the set bits j of each byte value. */
export const BYTE_RESIDUE_SUM = new Uint16Array(256)
for (let v = 0; v < 256; v++) {
  for (let j = 0; j < 8; j++) {
    if ((v >> j) & 1) {
      BYTE_POPCOUNT[v]++
      BYTE_RESIDUE_SUM[v] += RESIDUES[j]
    }
  }
}

/** Population count of a 32-bit word (SWAR: JavaScript has no popcount instruction). */
export function popcount32 (x: number): number {
  x = x - ((x >>> 1) & 0x55555555)
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  x = (x + (x >>> 4)) & 0x0f0f0f0f
  return Math.imul(x, 0x01010101) >>> 24
}
