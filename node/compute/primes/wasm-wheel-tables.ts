import { BYTE_CARRY, CLEAR_MASK, COFACTOR_GAP, COPRIME_DELTA, RESIDUES, WHEEL_INDEX_AFTER } from './wheel.ts'

/**
 * Where the wheel tables (wheel.ts) sit in a kernel's memory, relative to the address the
 * kernels get as `tables`: the wasm loops read them there instead of from JavaScript arrays.
 */
export const CLEAR_MASK_AT = 0
export const COFACTOR_GAP_AT = 64
export const BYTE_CARRY_AT = 96
export const RESIDUES_AT = 352
export const COFACTOR_STEP_AT = 360
export const STEPPED_WHEEL_INDEX_AT = 1260
export const WHEEL_TABLES_BYTES = 2160

/**
 * For a prime p (p % 30 = r) and a multiple n = p * m (n % 30 = s), at [r * 30 + s]:
 * COFACTOR_STEP, how many p's to add to reach the first cofactor >= m coprime to 30, and
 * STEPPED_WHEEL_INDEX, that cofactor's wheel index. A table instead of a loop: the loop's exit
 * is a mispredicted branch for most primes.
 */
const COFACTOR_STEP = new Uint8Array(900)
const STEPPED_WHEEL_INDEX = new Uint8Array(900)
for (const r of RESIDUES) {
  const inverse = RESIDUES.find((x) => (x * r) % 30 === 1) ?? 1
  for (let s = 0; s < 30; s++) {
    const m = (s * inverse) % 30
    COFACTOR_STEP[r * 30 + s] = COPRIME_DELTA[m]
    STEPPED_WHEEL_INDEX[r * 30 + s] = WHEEL_INDEX_AFTER[m]
  }
}

/** Copies the wheel tables into memory for crossMedium and crossLarge. */
export function writeWheelTables (buffer: ArrayBuffer, at: number): void {
  new Uint8Array(buffer, at + CLEAR_MASK_AT, 64).set(CLEAR_MASK)
  new Int32Array(buffer, at + COFACTOR_GAP_AT, 8).set(COFACTOR_GAP)
  new Int32Array(buffer, at + BYTE_CARRY_AT, 64).set(BYTE_CARRY)
  new Uint8Array(buffer, at + RESIDUES_AT, 8).set(RESIDUES)
  new Uint8Array(buffer, at + COFACTOR_STEP_AT, 900).set(COFACTOR_STEP)
  new Uint8Array(buffer, at + STEPPED_WHEEL_INDEX_AT, 900).set(STEPPED_WHEEL_INDEX)
}
