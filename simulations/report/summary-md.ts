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
    `Peak RSS per node (MB): ${r.peakRssMb.join(', ')}`,
    '',
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
