/**
 * The WebAssembly binary format, as much of it as the kernels emitted in this repo need:
 * LEB128 numbers and a module that imports `env.memory` and exports its functions. Each
 * kernel has its own instruction writer (the sieve's in node/compute/primes/wasm-emitter.ts,
 * the hard leaves' in node/compute/pi/wasm-builder.ts); both encode their modules here.
 */

export function unsignedLeb (n: number): number[] {
  const out: number[] = []
  do {
    let byte = n & 0x7f
    n >>>= 7
    if (n !== 0) byte |= 0x80
    out.push(byte)
  } while (n !== 0)
  return out
}

export function signedLeb (n: number): number[] {
  const out: number[] = []
  for (;;) {
    const byte = n & 0x7f
    n >>= 7
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte)
      return out
    }
    out.push(byte | 0x80)
  }
}

export function signedLeb64 (n: bigint): number[] {
  const out: number[] = []
  n = BigInt.asIntN(64, n)
  for (;;) {
    const byte = Number(n & 0x7fn)
    n >>= 7n
    if ((n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0)) {
      out.push(byte)
      return out
    }
    out.push(byte | 0x80)
  }
}

/** One exported function: its value types (as type bytes) and its encoded body (locals and code). */
export interface EncodedFunction {
  name: string
  params: number[]
  /** The result's type byte; none for a function without a result. */
  result?: number
  body: number[]
}

const I64_TYPE = 0x7e
const I64_CONST = 0x42
const END = 0x0b

function section (id: number, content: number[]): number[] {
  return [id, ...unsignedLeb(content.length), ...content]
}

function name (text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')]
  return [...unsignedLeb(bytes.length), ...bytes]
}

/**
 * A module importing `env.memory` and exporting every function by its name, the functions
 * numbered in the order given (what a `call` names). With `i64Global`, one mutable i64
 * global (global 0, starting at 0).
 */
export function encodeModule (functions: EncodedFunction[], options: { i64Global?: boolean } = {}): Uint8Array {
  const types = functions.flatMap(f => [0x60, ...unsignedLeb(f.params.length), ...f.params, ...(f.result == null ? [0] : [1, f.result])])
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [...unsignedLeb(functions.length), ...types]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 1]),
    ...section(3, [...unsignedLeb(functions.length), ...functions.flatMap((_, i) => unsignedLeb(i))]),
    ...(options.i64Global === true ? section(6, [1, I64_TYPE, 1, I64_CONST, 0, END]) : []),
    ...section(7, [...unsignedLeb(functions.length), ...functions.flatMap((f, i) => [...name(f.name), 0x00, ...unsignedLeb(i)])]),
    ...section(10, [...unsignedLeb(functions.length), ...functions.flatMap(f => f.body)])
  ])
}
