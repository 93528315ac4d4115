import { encodeModule, FunctionBody, I32 } from './wasm-emitter.ts'
import { buildCrossLarge, buildFlushLarge } from './wasm-cross-large.ts'
import { BYTE_CARRY_AT, CLEAR_MASK_AT, COFACTOR_GAP_AT } from './wasm-wheel-tables.ts'
import { BIT_OF_RESIDUE, RESIDUES } from './wheel.ts'
import { PRESIEVE_STREAMS } from './presieve.ts'

/**
 * The crossing-off loops of the sieve as WebAssembly, generated here at load time (no build
 * step, no binary in the repository). Written in JavaScript, every typed-array access also
 * pays a bounds check and a recomputed data pointer, about twice the instructions per
 * crossed-off multiple; wasm memory accesses are guarded by the virtual memory reservation
 * instead. Measured: about 1.5x faster for pi(1e10), 2x at 1e13.
 */

/**
 * crossSmall: primes with many multiples per segment (primesieve's EratSmall). In each period
 * of 30 cofactors the 8 multiples of p = 30q + r sit at fixed byte offsets `q * a + b` from the
 * period start (SievingPrimeList.position), with fixed bit masks, and a period is p bytes long.
 * So there is one loop per r with those offsets and masks as constants, crossing 8 multiples
 * per iteration, and a prime leaves at the first multiple past `end`, with no table lookups.
 *
 * A prime always enters at the start of its period, not at its next multiple: the multiples
 * before that one in the period are crossed again, which changes nothing (they are composite,
 * and already crossed or below the range), and it saves a jump to the wheel index that is
 * mispredicted for almost every prime in every block. Such a period may start up to p bytes
 * before the segment, so positions are addresses, with SEGMENT_AT bytes of scratch below the
 * segment; primes sorted by r (SievingPrimeList.groupByResidue) make the jump to r's loop
 * predictable.
 *
 * Exported `crossSmall(end, size, qOffset, rIndexOffset, positionOffset, wheelOffset)`: the
 * four Int32 arrays of a SievingPrimeList at the given byte offsets, `end` an address.
 */
function buildCrossSmall (): FunctionBody {
  const f = new FunctionBody(
    ['end', 'size', 'qOff', 'riOff', 'posOff', 'wheelOff'],
    ['j', 'addr', 'i', 'q', 'ri', 'k', 'p', 'o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7', 'lim', 't'])
  const residueLabels = RESIDUES.map((_, ri) => `r${ri}`)

  f.block('done').loop('primes')
  f.get('j').get('size').op('i32GeS').brIf('done')
  f.get('j').const(2).op('i32Shl').set('addr')
  f.get('posOff').get('addr').op('i32Add').load().set('i')
  f.block('next')
  f.get('i').get('end').op('i32GeS').brIf('next')
  f.get('qOff').get('addr').op('i32Add').load().set('q')
  f.get('riOff').get('addr').op('i32Add').load().set('ri')
  f.block('store')
  for (let ri = 7; ri >= 0; ri--) f.block(residueLabels[ri])
  f.get('ri').brTable(residueLabels, 'r7')
  for (let ri = 0; ri < 8; ri++) {
    f.end()
    residueCase(f, ri)
  }
  f.end()
  return closePrimeLoop(f)
}

function residueCase (f: FunctionBody, ri: number): void {
  const r = RESIDUES[ri]
  const masks = RESIDUES.map((m) => ~(1 << BIT_OF_RESIDUE[(r * m) % 30]) & 0xff)
  for (let k = 1; k < 8; k++) {
    const m = RESIDUES[k]
    f.get('q').const(m - 1).op('i32Mul')
    const carry = Math.floor((r * m) / 30)
    if (carry !== 0) f.const(carry).op('i32Add')
    f.set(`o${k}`)
  }
  f.get('end').get('o7').op('i32Sub').set('lim')
  f.get('q').const(30).op('i32Mul').const(r).op('i32Add').set('p')
  const address = (k: number): void => {
    f.get('i')
    if (k > 0) f.get(`o${k}`).op('i32Add')
  }
  const cross = (k: number): void => {
    address(k)
    f.tee('t').get('t').load8().const(masks[k]).op('i32And').store8()
  }
  const leaveIfPastEnd = (k: number): void => {
    address(k)
    f.get('end').op('i32GeS').if('past').const(k).set('k').br('store').end()
  }
  f.loop('period')
  // Whole periods first, 8 multiples per iteration.
  f.block('fastDone').loop('fast')
  f.get('i').get('lim').op('i32GeS').brIf('fastDone')
  for (let k = 0; k < 8; k++) cross(k)
  f.get('i').get('p').op('i32Add').set('i')
  f.br('fast')
  f.end().end()
  // The last period, up to the first multiple past the end.
  for (let k = 0; k < 8; k++) {
    leaveIfPastEnd(k)
    cross(k)
  }
  f.get('i').get('p').op('i32Add').set('i')
  f.br('period')
  f.end()
}

/**
 * crossMedium: primes with a few multiples per segment, one multiple per step (an unrolled
 * period would be longer than the segment); SievingPrimeList.position is the next multiple's
 * byte. The wheel steps are
 * read from WHEEL_TABLES_BYTES of tables at `tablesOffset` (see writeWheelTables).
 * `crossMedium(end, size, qOffset, rIndexOffset, positionOffset, wheelOffset, tablesOffset)`.
 */
function buildCrossMedium (): FunctionBody {
  const f = new FunctionBody(
    ['end', 'size', 'qOff', 'riOff', 'posOff', 'wheelOff', 'tables'],
    ['j', 'addr', 'i', 'q', 'row', 'k', 't'])
  f.block('done').loop('primes')
  f.get('j').get('size').op('i32GeS').brIf('done')
  f.get('j').const(2).op('i32Shl').set('addr')
  f.get('posOff').get('addr').op('i32Add').load().set('i')
  f.block('next')
  f.get('i').get('end').op('i32GeS').brIf('next')
  f.get('qOff').get('addr').op('i32Add').load().set('q')
  f.get('riOff').get('addr').op('i32Add').load().const(3).op('i32Shl').set('row')
  f.get('wheelOff').get('addr').op('i32Add').load().set('k')
  f.loop('step')
  f.get('row').get('k').op('i32Add').set('t')
  // sieve[i] &= CLEAR_MASK[t]
  f.get('i').get('i').load8().get('tables').get('t').op('i32Add').load8(CLEAR_MASK_AT).op('i32And').store8()
  // i += q * COFACTOR_GAP[k] + BYTE_CARRY[t]
  f.get('i')
  f.get('q').get('tables').get('k').const(2).op('i32Shl').op('i32Add').load(COFACTOR_GAP_AT).op('i32Mul').op('i32Add')
  f.get('tables').get('t').const(2).op('i32Shl').op('i32Add').load(BYTE_CARRY_AT).op('i32Add')
  f.tee('i')
  f.get('k').const(1).op('i32Add').const(7).op('i32And').set('k')
  f.get('end').op('i32LtS').brIf('step')
  f.end()
  return closePrimeLoop(f)
}

/**
 * preSieve: sieve[dst .. dst + bytes) = AND of PRESIEVE_STREAMS pattern streams, 16 bytes per
 * step (bytes a multiple of 16). `preSieve(dst, bytes, sources)`: the streams' addresses are
 * the i32 array at `sources`, read once into locals.
 */
function buildPreSieve (): FunctionBody {
  const streams = Array.from({ length: PRESIEVE_STREAMS }, (_, i) => `s${i}`)
  const f = new FunctionBody(['dst', 'bytes', 'sources'], ['x', ...streams])
  for (const [i, s] of streams.entries()) f.get('sources').load(4 * i).set(s)
  f.block('done').loop('words')
  f.get('x').get('bytes').op('i32GeS').brIf('done')
  f.get('dst').get('x').op('i32Add')
  streams.forEach((s, i) => {
    f.get(s).get('x').op('i32Add').v128Load()
    if (i > 0) f.v128And()
  })
  f.v128Store()
  f.get('x').const(16).op('i32Add').set('x')
  f.br('words')
  f.end().end()
  return f
}

/**
 * countBits: the set bits of memory [at, at + bytes) (bytes a multiple of 8), with the
 * processor's popcount, 8 bytes per step: `countBits(at, bytes)` (fewer than 2^31).
 */
function buildCountBits (): FunctionBody {
  const f = new FunctionBody(['at', 'bytes'], ['end', 'sum'], ['sum'])
  f.resultType = I32
  f.get('at').get('bytes').op('i32Add').set('end')
  f.block('done').loop('words')
  f.get('at').get('end').op('i32GeU').brIf('done')
  f.get('sum').get('at').load64().op('i64Popcnt').op('i64Add').set('sum')
  f.get('at').const(8).op('i32Add').set('at')
  f.br('words')
  f.end().end()
  f.get('sum').op('i32WrapI64')
  return f
}

export { WHEEL_TABLES_BYTES, writeWheelTables } from './wasm-wheel-tables.ts'

/**
 * The few WebAssembly APIs used here. The project's TypeScript lib (es2024 without DOM) has no
 * WebAssembly types, so they are declared locally.
 */
interface WasmMemory { readonly buffer: ArrayBuffer }
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> }
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

let compiled: object | null = null

/** The compiled module (built once per thread). */
function crossSmallModule (): object {
  compiled ??= new wasm.Module(encodeModule([
    { name: 'crossSmall', body: buildCrossSmall() },
    { name: 'crossMedium', body: buildCrossMedium() },
    { name: 'preSieve', body: buildPreSieve() },
    { name: 'crossLarge', body: buildCrossLarge() },
    { name: 'flushLarge', body: buildFlushLarge() },
    { name: 'countBits', body: buildCountBits() },
    { name: 'crossLargeAtMostOne', body: buildCrossLarge(true) }
  ]))
  return compiled
}

export type CrossSmall = (end: number, size: number, qOffset: number, rIndexOffset: number, positionOffset: number, wheelOffset: number) => void

/** Memory for a sieve segment at address 0 and what follows it; it never grows. */
export function createSieveMemory (bytes: number): ArrayBuffer {
  const memory = new wasm.Memory({ initial: Math.ceil(bytes / 65536) })
  memories.set(memory.buffer, memory)
  return memory.buffer
}

export type CrossMedium = (end: number, size: number, qOffset: number, rIndexOffset: number, positionOffset: number, wheelOffset: number, tablesOffset: number) => void

/** The wasm crossing loops working on the memory behind `buffer` (from createSieveMemory). */
export type PreSieveKernel = (dst: number, bytes: number, sources: number) => void

/**
 * `crossLarge(bitmap, fromByte, toByte, minPrime, maxPrime, low, maskBytes, mask, tables)`:
 * see wasm-cross-large.ts. The 64-bit arguments are BigInts.
 */
export type CrossLarge = (bitmap: number, fromByte: number, toByte: number, minPrime: bigint, maxPrime: bigint, low: bigint, maskBytes: number, mask: number, tables: number, buffers: number) => void
export type FlushLarge = (region: number, entries: number, count: number) => void

export type CountBits = (at: number, bytes: number) => number

export interface SieveKernels {
  crossSmall: CrossSmall
  crossMedium: CrossMedium
  preSieve: PreSieveKernel
  crossLarge: CrossLarge
  flushLarge: FlushLarge
  countBits: CountBits
  /** crossLarge for primes >= maskBytes * 15 (at most one multiple in the mask). */
  crossLargeAtMostOne: CrossLarge
}

export function instantiateCrossing (buffer: ArrayBuffer): SieveKernels {
  const memory = memories.get(buffer)
  if (memory == null) throw new Error('the buffer does not come from createSieveMemory')
  const instance = new wasm.Instance(crossSmallModule(), { env: { memory } })
  const e = instance.exports
  return {
    crossSmall: e.crossSmall as CrossSmall,
    crossMedium: e.crossMedium as CrossMedium,
    preSieve: e.preSieve as PreSieveKernel,
    crossLarge: e.crossLarge as CrossLarge,
    flushLarge: e.flushLarge as FlushLarge,
    countBits: e.countBits as CountBits,
    crossLargeAtMostOne: e.crossLargeAtMostOne as CrossLarge
  }
}

const memories = new WeakMap<ArrayBuffer, WasmMemory>()

/**
 * The tail both crossing loops share: save where the prime's next multiple lies (byte offset
 * and wheel index) for the next segment, then go on with the next sieving prime.
 */
function closePrimeLoop (f: FunctionBody): FunctionBody {
  f.get('posOff').get('addr').op('i32Add').get('i').store()
  f.get('wheelOff').get('addr').op('i32Add').get('k').store()
  f.end()
  f.get('j').const(1).op('i32Add').set('j')
  f.br('primes')
  f.end().end()
  return f
}
