import { BYTE_CARRY, CLEAR_MASK, COFACTOR_GAP, COFACTOR_STEP, RESIDUES, STEPPED_WHEEL_INDEX } from './wheel.ts'

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

/** Copies the wheel tables into memory for crossMedium and crossLarge. */
export function writeWheelTables (buffer: ArrayBuffer, at: number): void {
  new Uint8Array(buffer, at + CLEAR_MASK_AT, 64).set(CLEAR_MASK)
  new Int32Array(buffer, at + COFACTOR_GAP_AT, 8).set(COFACTOR_GAP)
  new Int32Array(buffer, at + BYTE_CARRY_AT, 64).set(BYTE_CARRY)
  new Uint8Array(buffer, at + RESIDUES_AT, 8).set(RESIDUES)
  new Uint8Array(buffer, at + COFACTOR_STEP_AT, 900).set(COFACTOR_STEP)
  new Uint8Array(buffer, at + STEPPED_WHEEL_INDEX_AT, 900).set(STEPPED_WHEEL_INDEX)
}
