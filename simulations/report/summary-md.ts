import type { SimResults } from './results.ts'

function cell (v: unknown): string {
  return String(v).replaceAll('|', '\\|').replaceAll('\n', ' ')
}

/** summary.md: the verdict, each checker's line, the timings and the plan's faults, for a person. */
export function summaryMarkdown (r: SimResults): string {
  const lines = [
    `# mesh sim ${r.scenario}, seed ${r.seed}: ${r.valid === true ? 'valid' : r.valid === false ? 'INVALID' : 'unknown'}`,
    '',
    `${r.nodes} nodes, ${r.tier} tier, started ${r.startedAt}. Reproduce: \`${r.reproduce}\``,
    '',
    '| checker | valid | summary |',
    '|---|---|---|',
    ...Object.entries(r.checkers).map(([name, c]) => `| ${name} | ${String(c.valid)} | ${cell(c.summary)} |`),
    '',
    '## Timings',
    '',
    '| phase | ms |',
    '|---|---|',
    ...Object.entries(r.timings).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    // The process tier's nodes share one process: one figure for all of them.
    r.tier === 'process' ? `Peak RSS of the process, all ${r.nodes} nodes (MB): ${r.peakRssMb.join(', ')}` : `Peak RSS per node (MB): ${r.peakRssMb.join(', ')}`,
    '',
    ...details(r),
    '## Faults',
    '',
    '| at (ms into the fault phase) | fault |',
    '|---|---|',
    ...r.plan.faults.map(f => `| ${f.at} | ${cell(JSON.stringify(f))} |`),
    '',
    'Plots: [timeline](timeline.svg) (each member\'s state as the others saw it, faults shaded), ',
    '[delivery](delivery.svg) (fraction of nodes holding each message against time since it was sent), ',
    '[latency](latency.svg) (stable chat latency and rpc call times against send time).',
    ''
  ]
  return lines.join('\n')
}

type Quantiles = { count: number, p50: number, p90: number, p99: number, max: number } | null

function q (x: Quantiles): string {
  return x == null ? '-' : `${x.p50} / ${x.p99} / ${x.max} (${x.count})`
}

/** Detection per fault kind, convergence after each fault, chat latency and whether each fault bit. */
function details (r: SimResults): string[] {
  const m = r.checkers.membership ?? {}
  const chat = r.checkers.chat ?? {}
  const vacuity = r.checkers.vacuity ?? {}
  const detection = Object.entries((m.detection ?? {}) as Record<string, any>)
  const windows = (vacuity.windows ?? []) as Array<{ kind: string, start: number, end: number, bit: boolean, reasons: string[] }>
  const convergence = (m.convergenceAfterEachFaultMs ?? []) as Array<number | null>
  return [
    '## Failure detection (ms from the fault: p50 / p99 / max (pairs))',
    '',
    '| fault | suspect | dead (left) | pairs expected | missed |',
    '|---|---|---|---|---|',
    ...detection.map(([kind, d]) => `| ${kind} | ${q(d.suspectMs)} | ${q(d.downMs)} | ${d.expectedPairs} | ${d.missed} |`),
    '',
    `Convergence after each fault (ms; - = not before the next): ${convergence.map(c => c ?? '-').join(', ') || 'none'}`,
    '',
    '## Chat latency until on every node (ms: p50 / p99 / max (messages))',
    '',
    `All ${q(chat.stableLatencyMs as Quantiles)}; sent during faults ${q(chat.stableLatencyDuringFaultsMs as Quantiles)}; outside ${q(chat.stableLatencyOutsideFaultsMs as Quantiles)}`,
    '',
    '## Did each fault bite?',
    '',
    '| fault | from (ms) | to (ms) | bit | why not |',
    '|---|---|---|---|---|',
    ...windows.map(w => `| ${w.kind} | ${w.start} | ${w.end} | ${w.bit ? 'yes' : 'no'} | ${cell(w.reasons.join('; '))} |`),
    ''
  ]
}
