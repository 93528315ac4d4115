import { fieldChecks, isRecord } from '../../protocols/json.ts'
import type { Grudge } from './grudge.ts'
import type { Fault, FaultEvent, JobSpec, SimPlan } from './plan.ts'

/** A plan file that is not a plan; the message names the field. */
export class InvalidPlanError extends Error {
  override name = 'InvalidPlanError'
}

const MAX_NODES = 200
const MAX_EVENTS = 10_000
const MAX_MS = 24 * 3600 * 1000
const FAULTS_WITH_NODES = new Set(['kill', 'restart', 'pause', 'resume', 'netem', 'netem-clear', 'leave', 'join'])

const check = fieldChecks((_reason, message) => { throw new InvalidPlanError(message) })

/** Reads a plan written by hand (or saved from a run's results.json `plan`), checking every field. */
export function parsePlan (text: string): SimPlan {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err: any) {
    throw new InvalidPlanError(`the plan is not JSON: ${String(err?.message)}`)
  }
  if (!isRecord(raw)) throw new InvalidPlanError('the plan must be a JSON object')
  const nodes = check.wholeNumber(raw.nodes, 'nodes', MAX_NODES, 2)
  const node = (value: unknown, field: string): number => check.wholeNumber(value, field, nodes - 1)
  const nodeList = (value: unknown, field: string): number[] => check.list(value, field, nodes).map((v, i) => node(v, `${field}[${i}]`))
  const workload = isRecord(raw.workload) ? raw.workload : {}
  if (!isRecord(raw.workload)) throw new InvalidPlanError('workload must be an object')
  const jobs: JobSpec[] = check.list(workload.jobs, 'workload.jobs', MAX_EVENTS).map((j, i) => {
    if (!isRecord(j)) throw new InvalidPlanError(`workload.jobs[${i}] must be an object`)
    const from = check.wholeNumber(j.from, `workload.jobs[${i}].from`)
    return {
      at: check.number(j.at, `workload.jobs[${i}].at`, -MAX_MS, MAX_MS),
      node: node(j.node, `workload.jobs[${i}].node`),
      from,
      to: check.wholeNumber(j.to, `workload.jobs[${i}].to`, Number.MAX_SAFE_INTEGER, from),
      expected: check.wholeNumber(j.expected, `workload.jobs[${i}].expected`)
    }
  })
  const faults: FaultEvent[] = check.list(raw.faults, 'faults', MAX_EVENTS).map((e, i) => {
    const field = `faults[${i}]`
    if (!isRecord(e)) throw new InvalidPlanError(`${field} must be an object`)
    const at = check.number(e.at, `${field}.at`, 0, MAX_MS)
    return { at, ...parseFault(e, field, nodes, node, nodeList) }
  })
  return {
    scenario: check.string(raw.scenario ?? 'plan-file', 'scenario', 100),
    seed: check.wholeNumber(raw.seed ?? 0, 'seed'),
    nodes,
    heartbeatMs: check.wholeNumber(raw.heartbeatMs ?? 1000, 'heartbeatMs', 60_000, 50),
    warmupMs: check.wholeNumber(raw.warmupMs ?? 0, 'warmupMs', MAX_MS),
    faultPhaseMs: check.wholeNumber(raw.faultPhaseMs, 'faultPhaseMs', MAX_MS),
    settleMs: check.wholeNumber(raw.settleMs ?? 30_000, 'settleMs', MAX_MS),
    workload: {
      chatEveryMs: check.wholeNumber(workload.chatEveryMs, 'workload.chatEveryMs', MAX_MS, 50),
      rpcEveryMs: check.wholeNumber(workload.rpcEveryMs, 'workload.rpcEveryMs', MAX_MS, 50),
      rpcDeadlineMs: check.wholeNumber(workload.rpcDeadlineMs, 'workload.rpcDeadlineMs', 600_000, 1),
      jobs
    },
    faults: faults.sort((a, b) => a.at - b.at)
  }
}

function parseFault (e: Record<string, unknown>, field: string, nodes: number, node: (v: unknown, f: string) => number, nodeList: (v: unknown, f: string) => number[]): Fault {
  const f = check.string(e.f, `${field}.f`, 20)
  if (f === 'heal') return { f }
  if (f === 'partition') {
    if (!isRecord(e.grudge)) throw new InvalidPlanError(`${field}.grudge must be an object: node -> nodes it drops`)
    const grudge: Grudge = {}
    for (const [k, v] of Object.entries(e.grudge)) grudge[node(Number(k), `${field}.grudge key "${k}"`)] = nodeList(v, `${field}.grudge.${k}`)
    return { f, shape: check.string(e.shape ?? 'custom', `${field}.shape`, 40), grudge }
  }
  if (!FAULTS_WITH_NODES.has(f)) throw new InvalidPlanError(`${field}.f must be one of partition, heal, ${[...FAULTS_WITH_NODES].join(', ')}`)
  const list = nodeList(e.nodes, `${field}.nodes`)
  if (list.length === 0 || list.length > nodes) throw new InvalidPlanError(`${field}.nodes must name at least one node`)
  if (f === 'netem') {
    return {
      f,
      nodes: list,
      delayMs: check.wholeNumber(e.delayMs ?? 0, `${field}.delayMs`, 60_000),
      jitterMs: check.wholeNumber(e.jitterMs ?? 0, `${field}.jitterMs`, 60_000),
      lossPercent: check.number(e.lossPercent ?? 0, `${field}.lossPercent`, 0, 100)
    }
  }
  return { f, nodes: list } as Fault
}
