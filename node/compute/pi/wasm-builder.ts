/**
 * A small WebAssembly binary writer for the hard-leaf kernel: one module with imported memory,
 * one mutable i64 global, functions with typed (i32, i64, f64) parameters and locals, and
 * named labels for structured control flow. Its own writer beside the sieve's because the
 * leaf loops divide in f64 and return results; both encode through node/compute/wasm/.
 */
import { encodeModule as encodeBinaryModule, signedLeb, unsignedLeb } from '../wasm/wasm-binary.ts'

export const T = { i32: 0x7f, i64: 0x7e, f64: 0x7c } as const
export type ValueType = keyof typeof T

/** The opcodes the kernel uses, by their text-format names. */
const OPS = {
  'select': 0x1b,
  'i32.eqz': 0x45, 'i32.eq': 0x46, 'i32.ne': 0x47, 'i32.lt_s': 0x48, 'i32.gt_s': 0x4a, 'i32.le_s': 0x4c, 'i32.ge_s': 0x4e,
  'i32.popcnt': 0x69, 'i32.add': 0x6a, 'i32.sub': 0x6b, 'i32.mul': 0x6c, 'i32.div_u': 0x6e,
  'i32.and': 0x71, 'i32.or': 0x72, 'i32.xor': 0x73, 'i32.shl': 0x74, 'i32.shr_s': 0x75, 'i32.shr_u': 0x76,
  'i64.add': 0x7c, 'i64.sub': 0x7d,
  'f64.add': 0xa0, 'f64.sub': 0xa1, 'f64.mul': 0xa2, 'f64.div': 0xa3, 'f64.floor': 0x9c,
  'i32.trunc_f64_s': 0xaa, 'i64.extend_i32_s': 0xac, 'i64.trunc_f64_s': 0xb0, 'f64.convert_i32_s': 0xb7
} as const
export type Op = keyof typeof OPS

/** One function: typed parameters and locals by name, labels by name. */
export class Func {
  readonly bytes: number[] = []
  private readonly index = new Map<string, number>()
  private readonly labels: string[] = []
  readonly name: string
  readonly result: ValueType | null
  readonly paramTypes: ValueType[]
  private readonly localTypes: ValueType[]

  constructor (name: string, params: Record<string, ValueType>, locals: Record<string, ValueType>, result: ValueType | null) {
    this.name = name
    this.result = result
    this.paramTypes = Object.values(params)
    this.localTypes = Object.values(locals)
    for (const key of [...Object.keys(params), ...Object.keys(locals)]) this.index.set(key, this.index.size)
  }

  private local (name: string): number[] {
    const i = this.index.get(name)
    if (i === undefined) throw new Error(`unknown local ${name}`)
    return unsignedLeb(i)
  }

  private depth (label: string): number[] {
    const at = this.labels.lastIndexOf(label)
    if (at < 0) throw new Error(`unknown label ${label}`)
    return unsignedLeb(this.labels.length - 1 - at)
  }

  get (name: string): this { this.bytes.push(0x20, ...this.local(name)); return this }
  set (name: string): this { this.bytes.push(0x21, ...this.local(name)); return this }
  tee (name: string): this { this.bytes.push(0x22, ...this.local(name)); return this }
  globalGet (): this { this.bytes.push(0x23, 0); return this }
  globalSet (): this { this.bytes.push(0x24, 0); return this }
  i32 (n: number): this { this.bytes.push(0x41, ...signedLeb(n | 0)); return this }
  i64Zero (): this { this.bytes.push(0x42, 0); return this }
  f64 (n: number): this {
    const bytes = new Uint8Array(new Float64Array([n]).buffer)
    this.bytes.push(0x44, ...bytes)
    return this
  }
  op (...names: Op[]): this { for (const n of names) this.bytes.push(OPS[n]); return this }
  load (offset = 0): this { this.bytes.push(0x28, 2, ...unsignedLeb(offset)); return this }
  store (offset = 0): this { this.bytes.push(0x36, 2, ...unsignedLeb(offset)); return this }
  load8 (offset = 0): this { this.bytes.push(0x2d, 0, ...unsignedLeb(offset)); return this }
  store8 (offset = 0): this { this.bytes.push(0x3a, 0, ...unsignedLeb(offset)); return this }
  block (label: string): this { this.labels.push(label); this.bytes.push(0x02, 0x40); return this }
  loop (label: string): this { this.labels.push(label); this.bytes.push(0x03, 0x40); return this }
  if (label: string): this { this.labels.push(label); this.bytes.push(0x04, 0x40); return this }
  else (): this { this.bytes.push(0x05); return this }
  end (): this { this.labels.pop(); this.bytes.push(0x0b); return this }
  br (label: string): this { this.bytes.push(0x0c, ...this.depth(label)); return this }
  brIf (label: string): this { this.bytes.push(0x0d, ...this.depth(label)); return this }

  encode (): number[] {
    const decls = this.localTypes.flatMap(t => [1, T[t]])
    const body = [...unsignedLeb(this.localTypes.length), ...decls, ...this.bytes, 0x0b]
    return [...unsignedLeb(body.length), ...body]
  }
}

/**
 * A module importing `env.memory`, with one mutable i64 global (global 0, starting at 0),
 * exporting every function by its name.
 */
export function encodeModule (functions: Func[]): Uint8Array {
  return encodeBinaryModule(functions.map(f => ({
    name: f.name,
    params: f.paramTypes.map(t => T[t]),
    result: f.result == null ? undefined : T[f.result],
    body: f.encode()
  })), { i64Global: true })
}
