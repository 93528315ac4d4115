import cliProgress from 'cli-progress'
import { printJson } from '../output.ts'

interface PeerShards { nick: string, shards: number }

/**
 * The demo's count as it goes: at a terminal, a bar for the whole and one per peer (its
 * shards delivered); otherwise a line at every quarter (`lines`) or a JSON line (`json`).
 */
export class DemoProgress {
  private readonly mode: 'bars' | 'lines' | 'json'
  private readonly multi?: cliProgress.MultiBar
  private readonly total?: cliProgress.SingleBar
  private readonly peers = new Map<string, cliProgress.SingleBar>()
  private readonly nicks: string[]
  private quarter = 0

  constructor (nicks: string[], mode: 'bars' | 'lines' | 'json') {
    this.mode = mode
    this.nicks = nicks
    if (mode !== 'bars') return
    this.multi = new cliProgress.MultiBar({
      stream: process.stdout,
      format: '   {name} {bar} {value_text}',
      hideCursor: true,
      barsize: 30,
      autopadding: true
    }, cliProgress.Presets.shades_classic)
    this.total = this.multi.create(100, 0, { name: 'all'.padEnd(5), value_text: '0%' })
    for (const nick of nicks) this.peers.set(nick, this.multi.create(1, 0, { name: nick.padEnd(5), value_text: '0 shards' }))
  }

  update (fraction: number, peers: PeerShards[]): void {
    if (this.mode === 'bars') {
      const most = Math.max(1, ...peers.map(p => p.shards))
      this.total?.update(Math.floor(fraction * 100), { value_text: `${Math.floor(fraction * 100)}%` })
      for (const p of peers) {
        const bar = this.peers.get(p.nick)
        bar?.setTotal(most)
        bar?.update(p.shards, { value_text: `${p.shards} shards` })
      }
      return
    }
    const quarter = Math.floor(fraction * 4)
    if (quarter <= this.quarter || quarter >= 4) return
    this.quarter = quarter
    if (this.mode === 'json') printJson({ step: 'progress', fraction, peers })
    else process.stdout.write(`   ${quarter * 25}% · ${this.nicks.map(n => `${n} ${peers.find(p => p.nick === n)?.shards ?? 0}`).join(' · ')} shards\n`)
  }

  /** A killed peer's bar says so; its count stays where it stopped. */
  killed (nick: string): void {
    this.peers.get(nick)?.update({ name: `${nick} ✗`.padEnd(5) })
  }

  /** A line above the bars (or on its own). */
  log (text: string, json: Record<string, unknown>): void {
    if (this.mode === 'json') printJson(json)
    else if (this.multi != null) this.multi.log(`${text}\n`)
    else process.stdout.write(`${text}\n`)
  }

  stop (): void {
    this.multi?.stop()
  }
}
