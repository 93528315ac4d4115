import { encodeModule, Func } from './wasm-builder.ts'
import type { PiTables } from './pi-tables.ts'
import { WIDE_BASE } from './wide-number.ts'

/**
 * The inner loops of the hard-leaf sieve as WebAssembly, generated at load time (no build
 * step, no binary in the repository): counting the leaves of one b in one segment, and
 * crossing off one prime with its counter updates. In JavaScript each typed-array access pays
 * a bounds check, and a popcount is a dozen instructions; here memory accesses are guarded
 * by the virtual memory reservation and popcount is one instruction. The leaf sums stay in an
 * i64 of the module (wrapping adds are exact modulo 2^64, and a shard's sum is far below
 * 2^63), so no BigInt is made per call.
 *
 * Memory: the segment's sieve at 0, its counters at COUNTERS, the residue masks at UP_TO_AT,
 * then per tables the factor table, the primes, and the crossing state of every sieving prime.
 */
export const SEGMENT_BYTES = 1 << 15
const COUNTERS = SEGMENT_BYTES + 64
const UP_TO_AT = COUNTERS + SEGMENT_BYTES
const DYNAMIC = UP_TO_AT + 30 * 4 + 8

/** Emits: cnt = live numbers in [segLow, t] of the segment, resuming the walk at stop/running. */
function emitCount (f: Func): void {
  f.get('t').get('segLow').op('f64.sub', 'i32.trunc_f64_s').set('offset')
  f.get('offset').i32(30).op('i32.div_u').set('byte')
  f.get('byte').i32(2).op('i32.shr_u').set('w')
  f.block('walked').loop('walk')
  f.get('stop').get('w').op('i32.ge_s').brIf('walked')
  // A whole counter block when the walk is at a block start and the block ends by w.
  f.get('stop').get('bwMask').op('i32.and', 'i32.eqz')
  f.get('stop').get('bw').op('i32.add').get('w').op('i32.le_s')
  f.op('i32.and').if('whole')
  f.get('running').get('stop').get('blockShift').op('i32.shr_u').i32(2).op('i32.shl').load(COUNTERS).op('i32.add').set('running')
  f.get('stop').get('bw').op('i32.add').set('stop')
  f.else()
  f.get('running').get('stop').i32(2).op('i32.shl').load(0).op('i32.popcnt', 'i32.add').set('running')
  f.get('stop').i32(1).op('i32.add').set('stop')
  f.end()
  f.br('walk')
  f.end().end()
  f.get('byte').i32(3).op('i32.and').i32(3).op('i32.shl').set('shift')
  f.get('w').i32(2).op('i32.shl').load(0)
  f.i32(1).get('shift').op('i32.shl').i32(1).op('i32.sub')
  f.get('offset').get('byte').i32(30).op('i32.mul', 'i32.sub').i32(2).op('i32.shl').load(UP_TO_AT).get('shift').op('i32.shl')
  f.op('i32.or', 'i32.and', 'i32.popcnt').get('running').op('i32.add').set('cnt')
}

/**
 * Emits: t = floor(v / d), d an i32 on the stack, v = xp when narrow, else the wide pair
 * hi * 2^21 + xp, divided as wideDivide does (two exact double divisions).
 */
function emitQuotient (f: Func, wide: boolean): void {
  f.op('f64.convert_i32_s')
  if (!wide) {
    f.set('d').get('xp').get('d').op('f64.div', 'f64.floor').set('t')
    return
  }
  f.set('d')
  f.get('hi').get('d').op('f64.div', 'f64.floor').set('q1')
  f.get('q1').f64(WIDE_BASE).op('f64.mul')
  f.get('hi').get('q1').get('d').op('f64.mul', 'f64.sub').f64(WIDE_BASE).op('f64.mul').get('xp').op('f64.add')
  f.get('d').op('f64.div', 'f64.floor', 'f64.add').set('t')
}

const COUNT_LOCALS = {
  t: 'f64', offset: 'i32', byte: 'i32', w: 'i32', stop: 'i32', running: 'i32', shift: 'i32', cnt: 'i32',
  bw: 'i32', bwMask: 'i32', acc: 'i64', phiB: 'i64', d: 'f64', q1: 'f64'
} as const

function emitPrologue (f: Func): void {
  f.get('phiBase').op('i64.trunc_f64_s').set('phiB')
  f.i32(1).get('blockShift').op('i32.shl').tee('bw').i32(1).op('i32.sub').set('bwMask')
}

function emitEpilogue (f: Func): void {
  f.globalGet().get('acc').op('i64.add').globalSet()
}

/**
 * composite(p, [hi,] xp, phiBase, mLow, mHigh, segLow, blockShift, factorAt): -mu(m) * phi(x / (p m))
 * for odd m in (mLow, mHigh] with factor > p; `compositeWide` takes x / p as the pair (hi, xp).
 */
function buildComposite (wide: boolean): Func {
  const f = new Func(wide ? 'compositeWide' : 'composite',
    { p: 'i32', ...(wide ? { hi: 'f64' } as const : {}), xp: 'f64', phiBase: 'f64', mLow: 'i32', mHigh: 'i32', segLow: 'f64', blockShift: 'i32', factorAt: 'i32' },
    { m: 'i32', fac: 'i32', ...COUNT_LOCALS }, null)
  emitPrologue(f)
  f.get('mHigh').i32(1).op('i32.sub').i32(1).op('i32.or').set('m')
  f.block('done').loop('leaves')
  f.get('m').get('mLow').op('i32.le_s').brIf('done')
  f.get('m').i32(1).op('i32.shr_u').i32(2).op('i32.shl').get('factorAt').op('i32.add').load().tee('fac')
  f.get('p').op('i32.gt_s').if('leaf')
  f.get('m')
  emitQuotient(f, wide)
  emitCount(f)
  f.get('fac').i32(1).op('i32.and').if('odd')
  f.get('acc').get('phiB').op('i64.add').get('cnt').op('i64.extend_i32_s', 'i64.add').set('acc')
  f.else()
  f.get('acc').get('phiB').op('i64.sub').get('cnt').op('i64.extend_i32_s', 'i64.sub').set('acc')
  f.end()
  f.end()
  f.get('m').i32(2).op('i32.sub').set('m')
  f.br('leaves')
  f.end().end()
  emitEpilogue(f)
  return f
}

/** prime(j, qLow, [hi,] xp, phiBase, segLow, blockShift, primesAt): +phi(x / (p q)) for q = primes[j], primes[j - 1], ... while q > qLow. */
function buildPrime (wide: boolean): Func {
  const f = new Func(wide ? 'primeWide' : 'prime',
    { j: 'i32', qLow: 'i32', ...(wide ? { hi: 'f64' } as const : {}), xp: 'f64', phiBase: 'f64', segLow: 'f64', blockShift: 'i32', primesAt: 'i32' },
    { q: 'i32', ...COUNT_LOCALS }, null)
  emitPrologue(f)
  f.block('done').loop('leaves')
  f.get('j').i32(2).op('i32.shl').get('primesAt').op('i32.add').load().tee('q')
  f.get('qLow').op('i32.le_s').brIf('done')
  f.get('q')
  emitQuotient(f, wide)
  emitCount(f)
  f.get('acc').get('phiB').op('i64.add').get('cnt').op('i64.extend_i32_s', 'i64.add').set('acc')
  f.get('j').i32(1).op('i32.sub').set('j')
  f.br('leaves')
  f.end().end()
  emitEpilogue(f)
  return f
}

/**
 * The walk over p_b's multiples that cross and crossPlain share: i is the next multiple's
 * byte and k its wheel index, kept per prime at nextAt and wheelAt between segments; row
 * selects p_b's residue row in the step and bit tables.
 */
function emitLoadPosition (f: Func): void {
  f.get('b').i32(2).op('i32.shl').get('nextAt').op('i32.add').load().set('i')
  f.get('b').i32(2).op('i32.shl').get('wheelAt').op('i32.add').load().set('k')
  f.get('b').i32(3).op('i32.shl').set('row')
}

/** i moves to the next multiple coprime to 30, k to its wheel index. */
function emitWheelStep (f: Func): void {
  f.get('i').get('row').get('k').op('i32.add').i32(2).op('i32.shl').get('stepAt').op('i32.add').load().op('i32.add').set('i')
  f.get('k').i32(1).op('i32.add').i32(7).op('i32.and').set('k')
}

/** Keeps where p_b's walk stopped, for the next segment. */
function emitStorePosition (f: Func): void {
  f.get('b').i32(2).op('i32.shl').get('nextAt').op('i32.add').get('i').store()
  f.get('b').i32(2).op('i32.shl').get('wheelAt').op('i32.add').get('k').store()
}

/**
 * cross(b, bytes, counterShift, nextAt, wheelAt, stepAt, bitAt): crosses p_b and its multiples
 * off the segment's first `bytes` bytes, takes each live one off its counter block, and
 * returns how many were live. Branch-free: a live bit is as likely as not.
 */
function buildCross (): Func {
  const f = new Func('cross',
    { b: 'i32', bytes: 'i32', counterShift: 'i32', nextAt: 'i32', wheelAt: 'i32', stepAt: 'i32', bitAt: 'i32' },
    { i: 'i32', k: 'i32', row: 'i32', shift: 'i32', v: 'i32', live: 'i32', removed: 'i32', addr: 'i32' }, 'i32')
  emitLoadPosition(f)
  f.block('done').loop('multiples')
  f.get('i').get('bytes').op('i32.ge_s').brIf('done')
  f.get('row').get('k').op('i32.add').get('bitAt').op('i32.add').load8().set('shift')
  f.get('i').load8().tee('v').get('shift').op('i32.shr_u').i32(1).op('i32.and').set('live')
  f.get('i').get('v').i32(1).get('shift').op('i32.shl').i32(-1).op('i32.xor', 'i32.and').store8()
  f.get('i').get('counterShift').op('i32.shr_u').i32(2).op('i32.shl').tee('addr')
  f.get('addr').load(COUNTERS).get('live').op('i32.sub').store(COUNTERS)
  f.get('removed').get('live').op('i32.add').set('removed')
  emitWheelStep(f)
  f.br('multiples')
  f.end().end()
  emitStorePosition(f)
  f.get('removed')
  return f
}

/**
 * crossPlain(b, bytes, nextAt, wheelAt, stepAt, bitAt): crosses p_b and its multiples off the
 * segment's first `bytes` bytes, as `cross` does but leaving the counters alone: for primes
 * crossed only so that the segment's live numbers become its primes (P2, see fused-p2.ts).
 */
function buildCrossPlain (): Func {
  const f = new Func('crossPlain',
    { b: 'i32', bytes: 'i32', nextAt: 'i32', wheelAt: 'i32', stepAt: 'i32', bitAt: 'i32' },
    { i: 'i32', k: 'i32', row: 'i32' }, null)
  emitLoadPosition(f)
  f.block('done').loop('multiples')
  f.get('i').get('bytes').op('i32.ge_s').brIf('done')
  f.get('i').get('i').load8()
  f.i32(1).get('row').get('k').op('i32.add').get('bitAt').op('i32.add').load8().op('i32.shl').i32(-1).op('i32.xor', 'i32.and').store8()
  emitWheelStep(f)
  f.br('multiples')
  f.end().end()
  emitStorePosition(f)
  return f
}

/**
 * countBlocks(wordCount, blockShift): each counter block's live count (blocks of 2^blockShift
 * words) from the segment's words, and their total; per segment, before its first leaf.
 */
function buildCountBlocks (): Func {
  const f = new Func('countBlocks', { wordCount: 'i32', blockShift: 'i32' },
    { w: 'i32', end: 'i32', n: 'i32', total: 'i32', at: 'i32' }, 'i32')
  f.block('done').loop('blocks')
  f.get('w').get('wordCount').op('i32.ge_s').brIf('done')
  f.get('w').i32(1).get('blockShift').op('i32.shl').op('i32.add').tee('end')
  f.get('wordCount').op('i32.gt_s').if('clamp')
  f.get('wordCount').set('end')
  f.end()
  f.i32(0).set('n')
  f.block('counted').loop('words')
  f.get('w').get('end').op('i32.ge_s').brIf('counted')
  f.get('n').get('w').i32(2).op('i32.shl').load().op('i32.popcnt', 'i32.add').set('n')
  f.get('w').i32(1).op('i32.add').set('w')
  f.br('words')
  f.end().end()
  f.get('at').get('n').store(COUNTERS)
  f.get('at').i32(4).op('i32.add').set('at')
  f.get('total').get('n').op('i32.add').set('total')
  f.br('blocks')
  f.end().end()
  f.get('total')
  return f
}

/**
 * prefixCounts(wordCount): over the counters, the live numbers before each word of the
 * segment (counters[w] = popcounts of words 0 .. w - 1), and their total; for P2's counts
 * once a segment's leaves are done (see fused-p2.ts).
 */
function buildPrefixCounts (): Func {
  const f = new Func('prefixCounts', { wordCount: 'i32' }, { w: 'i32', total: 'i32', at: 'i32' }, 'i32')
  f.block('done').loop('words')
  f.get('w').get('wordCount').op('i32.ge_s').brIf('done')
  f.get('w').i32(2).op('i32.shl').tee('at').get('total').store(COUNTERS)
  f.get('total').get('at').load().op('i32.popcnt', 'i32.add').set('total')
  f.get('w').i32(1).op('i32.add').set('w')
  f.br('words')
  f.end().end()
  f.get('total')
  return f
}

/** takeSum(): the leaf sum so far (a signed i64, a BigInt in JavaScript), and resets it. */
function buildTakeSum (): Func {
  const f = new Func('takeSum', {}, {}, 'i64')
  f.globalGet().i64Zero().globalSet()
  return f
}

interface KernelExports {
  composite: (p: number, xp: number, phiBase: number, mLow: number, mHigh: number, segLow: number, blockShift: number, factorAt: number) => void
  prime: (j: number, qLow: number, xp: number, phiBase: number, segLow: number, blockShift: number, primesAt: number) => void
  compositeWide: (p: number, hi: number, xp: number, phiBase: number, mLow: number, mHigh: number, segLow: number, blockShift: number, factorAt: number) => void
  primeWide: (j: number, qLow: number, hi: number, xp: number, phiBase: number, segLow: number, blockShift: number, primesAt: number) => void
  cross: (b: number, bytes: number, counterShift: number, nextAt: number, wheelAt: number, stepAt: number, bitAt: number) => number
  countBlocks: (wordCount: number, blockShift: number) => number
  crossPlain: (b: number, bytes: number, nextAt: number, wheelAt: number, stepAt: number, bitAt: number) => void
  prefixCounts: (wordCount: number) => number
  takeSum: () => bigint
}

/** The few WebAssembly APIs used (the project's TypeScript lib has no WebAssembly types). */
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer }
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> }
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

let compiled: object | null = null

/** One instance per tables: its memory holds their factor table and primes. */
export class HardLeafKernel {
  readonly exports: KernelExports
  /** The segment as bytes and as words, its counters: views on the kernel's memory. */
  readonly sieve: Uint8Array
  readonly words: Uint32Array
  readonly counters: Int32Array
  /** Crossing state per sieving prime p_b, at b (step and bit at 8 * b + wheel index). */
  readonly nextByte: Int32Array
  readonly wheel: Int32Array
  readonly step: Int32Array
  readonly bitIndex: Uint8Array
  readonly factorAt: number
  readonly primesAt: number
  readonly nextAt: number
  readonly wheelAt: number
  readonly stepAt: number
  readonly bitAt: number

  constructor (tables: PiTables, maxB: number, upTo: Int32Array) {
    compiled ??= new wasm.Module(encodeModule([buildComposite(false), buildPrime(false), buildCross(), buildTakeSum(), buildComposite(true), buildPrime(true), buildCountBlocks(), buildCrossPlain(), buildPrefixCounts()]))
    const slots = maxB + 2
    this.factorAt = DYNAMIC
    this.primesAt = this.factorAt + 4 * tables.factor.length
    this.nextAt = this.primesAt + 4 * tables.primes.length
    this.wheelAt = this.nextAt + 4 * slots
    this.stepAt = this.wheelAt + 4 * slots
    this.bitAt = this.stepAt + 32 * slots
    const end = this.bitAt + 8 * slots
    const memory = new wasm.Memory({ initial: Math.ceil(end / 65536) })
    const instance = new wasm.Instance(compiled, { env: { memory } })
    this.exports = instance.exports as unknown as KernelExports
    const buffer = memory.buffer
    this.sieve = new Uint8Array(buffer, 0, SEGMENT_BYTES)
    this.words = new Uint32Array(buffer, 0, SEGMENT_BYTES / 4)
    this.counters = new Int32Array(buffer, COUNTERS, SEGMENT_BYTES / 4)
    new Int32Array(buffer, UP_TO_AT, 30).set(upTo)
    new Int32Array(buffer, this.factorAt, tables.factor.length).set(tables.factor)
    new Int32Array(buffer, this.primesAt, tables.primes.length).set(tables.primes)
    this.nextByte = new Int32Array(buffer, this.nextAt, slots)
    this.wheel = new Int32Array(buffer, this.wheelAt, slots)
    this.step = new Int32Array(buffer, this.stepAt, 8 * slots)
    this.bitIndex = new Uint8Array(buffer, this.bitAt, 8 * slots)
  }
}

const kernels = new WeakMap<PiTables, HardLeafKernel>()

/** The kernel for these tables, sized for sieving primes up to p_maxB (made on first use). */
export function kernelFor (tables: PiTables, maxB: number, upTo: Int32Array): HardLeafKernel {
  let kernel = kernels.get(tables)
  if (kernel == null || kernel.nextByte.length < maxB + 2) {
    kernel = new HardLeafKernel(tables, maxB, upTo)
    kernels.set(tables, kernel)
  }
  return kernel
}
