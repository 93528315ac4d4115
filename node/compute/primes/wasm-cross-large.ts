import { FunctionBody } from './wasm-emitter.ts'
import { BYTE_CARRY_AT, CLEAR_MASK_AT, COFACTOR_GAP_AT, COFACTOR_STEP_AT, RESIDUES_AT, STEPPED_WHEEL_INDEX_AT } from './wasm-wheel-tables.ts'

/**
 * crossLarge: the sieving primes with few or no multiples per chunk (primesieve's EratBig
 * territory), placed and crossed off in one pass over a chunk-wide mask.
 *
 * The primes come from a mod-30 bitmap (bit j of byte b set: 30 b + RESIDUES[j] is prime), so
 * 203 million primes below 2^32 take 143 MB instead of 812 as 32-bit words. For each prime p
 * in [minPrime, maxPrime] it finds the first multiple p * m >= max(low, p^2) with m coprime to
 * 30 (one 64-bit remainder), then clears the bits of p's multiples in the mask, whose byte i
 * stands for low + 30 i .. low + 30 i + 29 (maskBytes bytes). Primes this large hit a chunk a
 * few times at most, so what costs is the placement, and keeping it in WebAssembly (64-bit
 * integer division, no BigInt, no bounds checks) is what makes heights near 2^64 affordable.
 *
 * `crossLarge(bitmap, fromByte, toByte, minPrime, maxPrime, low, maskBytes, mask, tables, buffers)`:
 * scans bitmap bytes [fromByte, toByte) in 8-byte words (fromByte a multiple of 8); minPrime,
 * maxPrime and low (a multiple of 30) are i64; maskBytes * 30 < 2^32 (offsets below it are u32).
 */
/**
 * Crossings are not written to the mask at once: the mask is many times the L2 cache, so each
 * would be a cache miss. They are queued (byte in region << 8 | clear mask, 4 bytes) in one
 * buffer per 2^REGION_SHIFT bytes of mask, and a full buffer is applied to its region in one
 * go (the software form of primesieve's buckets, but bounded: BUFFER_ENTRIES per region, 64
 * MiB in all for a 128 MiB mask). A flush still misses the cache once per line of the region
 * it touches first, so a buffer holds 8 entries per line of its region: near 2^64 the
 * crossings took 12% less CPU than with 512 KiB regions of 1024 entries (1 MiB in all).
 */
export const REGION_SHIFT = 16
const BUFFER_SHIFT = 13
const BUFFER_ENTRIES = 1 << BUFFER_SHIFT
/** Layout at `buffers`: the fill count of each region (i32, up to 4096 regions), then the buffers from BUFFERS_AT. */
export const BUFFERS_AT = 16384
/** Bytes of the buffers for a mask of maskBytes (regions of 2^REGION_SHIFT bytes, at most 4096). */
export function largeBuffersBytes (maskBytes: number): number {
  return BUFFERS_AT + 4 * BUFFER_ENTRIES * Math.ceil(maskBytes / 2 ** REGION_SHIFT)
}
/** flushLarge's position in the module (wasm-crossing.ts lists it fifth). */
export const FLUSH_LARGE_INDEX = 4

/**
 * `flushLarge(region, entries, count)`: applies `count` queued crossings from address `entries`
 * to the mask region starting at address `region` (entry: byte in region << 8 | clear mask).
 */
export function buildFlushLarge (): FunctionBody {
  const f = new FunctionBody(['mask', 'entries', 'count'], ['e', 'x', 'end'])
  f.get('entries').get('count').const(2).op('i32Shl').op('i32Add').set('end')
  f.block('done').loop('apply')
  f.get('entries').get('end').op('i32GeU').brIf('done')
  f.get('entries').load().set('e')
  f.get('mask').get('e').const(8).op('i32ShrU').op('i32Add').tee('x').get('x').load8().get('e').op('i32And').store8()
  f.get('entries').const(4).op('i32Add').set('entries')
  f.br('apply')
  f.end().end()
  return f
}

/**
 * Queues the crossing of byte i (wheel index k) and steps to the next multiple. Branch-free:
 * when i is past the mask the entry goes to region 0's next slot without being counted.
 */
function queueCrossing (f: FunctionBody, mayBePast: boolean): void {
  f.get('row').get('k').op('i32Add').set('t')
  if (mayBePast) {
    f.get('i').get('maskBytes').op('i32LtU').set('in')
    f.get('i').const(REGION_SHIFT).op('i32ShrU').const(0).get('in').select().set('x')
  } else {
    f.const(1).set('in')
    f.get('i').const(REGION_SHIFT).op('i32ShrU').set('x')
  }
  f.get('buffers').get('x').const(2).op('i32Shl').op('i32Add').load().set('n')
  f.get('buffers').get('x').const(BUFFER_SHIFT + 2).op('i32Shl').op('i32Add').get('n').const(2).op('i32Shl').op('i32Add')
  f.get('i').const((1 << REGION_SHIFT) - 1).op('i32And').const(8).op('i32Shl').get('tables').get('t').op('i32Add').load8(CLEAR_MASK_AT).op('i32Or')
  f.store(BUFFERS_AT)
  f.get('n').get('in').op('i32Add').tee('n').const(BUFFER_ENTRIES).op('i32Eq').if('full')
  f.get('mask').get('x').const(REGION_SHIFT).op('i32Shl').op('i32Add').get('buffers').get('x').const(BUFFER_SHIFT + 2).op('i32Shl').op('i32Add').const(BUFFERS_AT).op('i32Add').const(BUFFER_ENTRIES).call(FLUSH_LARGE_INDEX)
  f.const(0).set('n')
  f.end()
  f.get('buffers').get('x').const(2).op('i32Shl').op('i32Add').get('n').store()
  f.get('i')
  f.get('q').get('tables').get('k').const(2).op('i32Shl').op('i32Add').load(COFACTOR_GAP_AT).op('i32Mul').op('i32Add')
  f.get('tables').get('t').const(2).op('i32Shl').op('i32Add').load(BYTE_CARRY_AT).op('i32Add')
  f.set('i')
  f.get('k').const(1).op('i32Add').const(7).op('i32And').set('k')
}

/**
 * `atMostOne`: the variant for primes of at least half the chunk's numbers, which have at most
 * one multiple in it (consecutive multiples coprime to 30 are 2p or more apart): one
 * branch-free step and no loop. Near 2^64 that is the upper half of the primes below 2^32.
 */
export function buildCrossLarge (atMostOne = false): FunctionBody {
  const f = new FunctionBody(
    ['bitmap', 'fromByte', 'toByte', 'minPrime', 'maxPrime', 'low', 'maskBytes', 'mask', 'tables', 'buffers'],
    ['w', 'bits', 't', 'p64', 'square', 'rem', 'off', 'limit', 'p', 'q', 'ri', 'r', 'k', 'i', 'row', 'x', 'n', 'in'],
    ['minPrime', 'maxPrime', 'low', 'bits', 'p64', 'square', 'rem', 'off', 'limit'])
  f.get('maskBytes').op('i64ExtendI32U').const64(30n).op('i64Mul').set('limit')
  f.get('fromByte').set('w')
  f.block('done').loop('words')
  f.get('w').get('toByte').op('i32GeU').brIf('done')
  f.get('bitmap').get('w').op('i32Add').load64().set('bits')
  f.block('wordDone').loop('primes')
  f.get('bits').op('i64Eqz').brIf('wordDone')
  f.get('bits').op('i64Ctz').op('i32WrapI64').set('t')
  f.get('bits').get('bits').const64(1n).op('i64Sub').op('i64And').set('bits')
  f.get('t').const(7).op('i32And').set('ri')
  f.get('tables').get('ri').op('i32Add').load8(RESIDUES_AT).set('r')
  // p = 30 * (w + t / 8) + RESIDUES[t % 8]; bits ascend, so past maxPrime nothing is left.
  f.get('w').get('t').const(3).op('i32ShrU').op('i32Add').op('i64ExtendI32U').const64(30n).op('i64Mul')
  f.get('r').op('i64ExtendI32U').op('i64Add').set('p64')
  f.get('p64').get('minPrime').op('i64LtU').brIf('primes')
  f.get('p64').get('maxPrime').op('i64GtU').brIf('done')
  // off: from low to the first multiple >= max(low, p^2) (smaller multiples have a smaller factor).
  f.block('placed')
  f.get('p64').get('p64').op('i64Mul').set('square')
  f.get('square').get('low').op('i64GeU').if('aboveSquare')
  f.get('square').get('low').op('i64Sub').set('off').br('placed')
  f.end()
  f.get('low').get('p64').op('i64RemU').set('rem')
  f.get('p64').get('rem').op('i64Sub').set('off')
  f.get('rem').op('i64Eqz').if('divides').const64(0n).set('off').end()
  f.end()
  f.get('off').get('limit').op('i64GeU').brIf('primes')
  f.get('p64').op('i32WrapI64').set('p')
  f.get('p').const(30).op('i32DivU').set('q')
  // Step to the first cofactor coprime to 30: (low + off) % 30 = off % 30 picks the step.
  f.get('tables').get('r').const(30).op('i32Mul').op('i32Add').get('off').op('i32WrapI64').const(30).op('i32RemU').op('i32Add').set('x')
  f.get('tables').get('x').op('i32Add').load8(STEPPED_WHEEL_INDEX_AT).set('k')
  f.get('off').get('tables').get('x').op('i32Add').load8(COFACTOR_STEP_AT).op('i64ExtendI32U').get('p64').op('i64Mul').op('i64Add').set('off')
  // i: the multiple's byte, or maskBytes when the step went past the mask.
  f.get('off').op('i32WrapI64').const(30).op('i32DivU').get('maskBytes').get('off').get('limit').op('i64LtU').select().set('i')
  f.get('ri').const(3).op('i32Shl').set('row')
  // Cross off: the same wheel steps as crossMedium, until past the mask. Each crossing is
  // queued in its region's buffer, not written to the mask. Most of these primes have 0 to 2
  // multiples in the mask, an unpredictable count, so the first two steps have no branch: a
  // step past the mask writes a slot it does not count.
  queueCrossing(f, true)
  if (!atMostOne) {
    queueCrossing(f, true)
    f.block('crossed').loop('cross')
    f.get('i').get('maskBytes').op('i32GeU').brIf('crossed')
    queueCrossing(f, false)
    f.br('cross')
    f.end().end()
  }
  f.br('primes')
  f.end().end()
  f.get('w').const(8).op('i32Add').set('w')
  f.br('words')
  f.end().end()
  return f
}
