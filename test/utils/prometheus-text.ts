/** One sample of the Prometheus text format. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/

/**
 * A strict reader of the Prometheus text exposition format (0.0.4): throws on any line that
 * is not a HELP, a TYPE, a blank line or a well-formed sample, on a sample whose family has
 * no TYPE before it, on a family typed twice and on a duplicate series.
 */
export function parsePrometheusText (text: string): { types: Map<string, string>, samples: Sample[] } {
  const types = new Map<string, string>()
  const samples: Sample[] = []
  const series = new Set<string>()
  text.split('\n').forEach((line, i) => {
    const fail = (why: string): never => { throw new Error(`line ${i + 1}: ${why}: ${line.slice(0, 120)}`) }
    if (line.trim() === '') return
    if (line.startsWith('# HELP ')) {
      const name = line.slice(7).split(' ')[0]
      if (!NAME.test(name)) fail('bad metric name in HELP')
      return
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type, ...rest] = line.slice(7).split(' ')
      if (!NAME.test(name) || !TYPES.has(type) || rest.length > 0) fail('bad TYPE line')
      if (types.has(name)) fail('family typed twice')
      types.set(name, type)
      return
    }
    if (line.startsWith('#')) return
    const m = SAMPLE.exec(line)
    if (m == null) fail('not a sample')
    const [, name, , labelText = '', valueText] = m as RegExpExecArray
    const family = [...types.keys()].find(f => name === f || (['histogram', 'summary'].includes(types.get(f) as string) && [`${f}_sum`, `${f}_count`, `${f}_bucket`].includes(name)))
    if (family == null) fail('sample with no TYPE before it')
    const labels: Record<string, string> = {}
    let rest = labelText
    while (rest !== '') {
      const l = LABEL.exec(rest)
      if (l == null) fail('bad labels')
      const [whole, key, value] = l as RegExpExecArray
      if (key in labels) fail('label given twice')
      labels[key] = value
      rest = rest.slice(whole.length)
    }
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : valueText === 'NaN' ? Number.NaN : Number(valueText)
    if (!['+Inf', '-Inf', 'NaN'].includes(valueText) && (valueText === '' || Number.isNaN(value))) fail('bad value')
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`
    if (series.has(key)) fail('duplicate series')
    series.add(key)
    samples.push({ name, labels, value })
  })
  return { types, samples }
}
