/**
 * Just enough of a WebAssembly binary writer for the sieve kernels: one module with imported
 * memory and i32/i64 functions with at most one result. Structured control flow uses named labels;
 * `br(name)` turns a name into the relative depth the binary format wants.
 */
import { encodeModule as encodeBinaryModule, signedLeb, signedLeb64, unsignedLeb } from '../wasm/wasm-binary.ts'

export const I32 = 0x7f
export const I64 = 0x7e

const OP = {
  block: 0x02, loop: 0x03, if: 0x04, end: 0x0b, br: 0x0c, brIf: 0x0d, brTable: 0x0e, call: 0x10, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i64Load: 0x29, i32Load8s: 0x2c, i32Load8u: 0x2d, i32Store: 0x36, i32Store8: 0x3a,
  i32Const: 0x41, i64Const: 0x42
} as const

/** The numeric instructions the kernels use, by name. */
const NUMERIC = {
  i32Eqz: 0x45, i32LtS: 0x48, i32LtU: 0x49, i32GeS: 0x4e, i32GeU: 0x4f,
  i64Eqz: 0x50, i64LtU: 0x54, i64GtU: 0x56, i64GeU: 0x5a,
  i32Eq: 0x46, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32DivU: 0x6e, i32RemU: 0x70, i32And: 0x71, i32Or: 0x72, i32Shl: 0x74, i32ShrU: 0x76,
  i64Ctz: 0x7a, i64Popcnt: 0x7b, i64Add: 0x7c, i64Sub: 0x7d, i64Mul: 0x7e, i64RemU: 0x82, i64And: 0x83,
  i32WrapI64: 0xa7, i64ExtendI32U: 0xad
} as const
export type NumericOp = keyof typeof NUMERIC

/**
 * The body of one function: locals by name, labels by name. Parameters and locals are i32
 * unless their name is listed in `wide` (i64).
 */
export class FunctionBody {
  readonly bytes: number[] = []
  readonly paramTypes: number[]
  /** The result's type, if the function returns one (left on the stack at the end). */
  resultType: number | undefined = undefined
  private readonly localTypes: number[]
  private readonly locals = new Map<string, number>()
  private readonly labels: string[] = []

  constructor (params: string[], locals: string[], wide: string[] = []) {
    const type = (name: string): number => wide.includes(name) ? I64 : I32
    for (const [i, name] of params.entries()) this.locals.set(name, i)
    for (const [i, name] of locals.entries()) this.locals.set(name, params.length + i)
    this.paramTypes = params.map(type)
    this.localTypes = locals.map(type)
  }

  private local (name: string): number[] {
    const index = this.locals.get(name)
    if (index === undefined) throw new Error(`unknown local ${name}`)
    return unsignedLeb(index)
  }

  private depth (label: string): number[] {
    const at = this.labels.lastIndexOf(label)
    if (at < 0) throw new Error(`unknown label ${label}`)
    return unsignedLeb(this.labels.length - 1 - at)
  }

  get (name: string): this { this.bytes.push(OP.localGet, ...this.local(name)); return this }
  set (name: string): this { this.bytes.push(OP.localSet, ...this.local(name)); return this }
  tee (name: string): this { this.bytes.push(OP.localTee, ...this.local(name)); return this }
  const (n: number): this { this.bytes.push(OP.i32Const, ...signedLeb(n | 0)); return this }
  const64 (n: bigint): this { this.bytes.push(OP.i64Const, ...signedLeb64(n)); return this }
  op (name: NumericOp): this { this.bytes.push(NUMERIC[name]); return this }
  load (offset = 0): this { this.bytes.push(OP.i32Load, 2, ...unsignedLeb(offset)); return this }
  load64 (offset = 0): this { this.bytes.push(OP.i64Load, 3, ...unsignedLeb(offset)); return this }
  store (offset = 0): this { this.bytes.push(OP.i32Store, 2, ...unsignedLeb(offset)); return this }
  load8 (offset = 0): this { this.bytes.push(OP.i32Load8u, 0, ...unsignedLeb(offset)); return this }
  /** Loads a signed byte (an Int8Array table entry). */
  load8s (offset = 0): this { this.bytes.push(OP.i32Load8s, 0, ...unsignedLeb(offset)); return this }
  store8 (offset = 0): this { this.bytes.push(OP.i32Store8, 0, ...unsignedLeb(offset)); return this }
  /** SIMD: 16-byte load, store and AND (offsets fold into the instruction). */
  v128Load (offset = 0): this { this.bytes.push(0xfd, 0x00, 0, ...unsignedLeb(offset)); return this }
  v128Store (offset = 0): this { this.bytes.push(0xfd, 0x0b, 0, ...unsignedLeb(offset)); return this }
  v128And (): this { this.bytes.push(0xfd, 0x4e); return this }
  block (label: string): this { this.labels.push(label); this.bytes.push(OP.block, 0x40); return this }
  loop (label: string): this { this.labels.push(label); this.bytes.push(OP.loop, 0x40); return this }
  if (label: string): this { this.labels.push(label); this.bytes.push(OP.if, 0x40); return this }
  end (): this { this.labels.pop(); this.bytes.push(OP.end); return this }
  /** Pops c, b, a; pushes c !== 0 ? a : b (both evaluated: no branch to mispredict). */
  select (): this { this.bytes.push(OP.select); return this }
  /** Calls the module's function number `index` (its position in encodeModule's list). */
  call (index: number): this { this.bytes.push(OP.call, ...unsignedLeb(index)); return this }
  br (label: string): this { this.bytes.push(OP.br, ...this.depth(label)); return this }
  brIf (label: string): this { this.bytes.push(OP.brIf, ...this.depth(label)); return this }
  brTable (labels: string[], otherwise: string): this {
    this.bytes.push(OP.brTable, ...unsignedLeb(labels.length))
    for (const l of labels) this.bytes.push(...this.depth(l))
    this.bytes.push(...this.depth(otherwise))
    return this
  }

  /** The encoded function: local declarations (one entry per local), code, final `end`. */
  encode (): number[] {
    const declarations = this.localTypes.flatMap((type) => [1, type])
    const body = [...unsignedLeb(this.localTypes.length), ...declarations, ...this.bytes, OP.end]
    return [...unsignedLeb(body.length), ...body]
  }
}

/** A module importing `env.memory` and exporting the given functions. */
export function encodeModule (functions: { name: string, body: FunctionBody }[]): Uint8Array {
  return encodeBinaryModule(functions.map(f => ({ name: f.name, params: f.body.paramTypes, result: f.body.resultType, body: f.body.encode() })))
}
