import { mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { toJsonLines, type HistoryEvent } from '../history/history.ts'
import { deliverySvg } from './delivery-svg.ts'
import { latencySvg } from './latency-svg.ts'
import type { SimResults } from './results.ts'
import { summaryMarkdown } from './summary-md.ts'
import { timelineSvg } from './timeline-svg.ts'

/** Writes the report folder: results.json, history.jsonl, summary.md, the three plots, plan.json and the nemesis commands. */
export async function writeReport (results: SimResults, history: readonly HistoryEvent[], commands: string[]): Promise<void> {
  const dir = results.dir
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'results.json'), JSON.stringify(results, null, 2) + '\n')
  await writeFile(join(dir, 'history.jsonl'), toJsonLines(history))
  await writeFile(join(dir, 'plan.json'), JSON.stringify(results.plan, null, 2) + '\n')
  await writeFile(join(dir, 'summary.md'), summaryMarkdown(results))
  await writeFile(join(dir, 'timeline.svg'), timelineSvg(history))
  await writeFile(join(dir, 'delivery.svg'), deliverySvg(history))
  await writeFile(join(dir, 'latency.svg'), latencySvg(history))
  if (commands.length > 0) await writeFile(join(dir, 'commands.txt'), commands.join('\n') + '\n')
}

/** Points `<parent>/latest` at the report folder (relative, so the tree can be moved). */
export async function linkLatest (dir: string): Promise<void> {
  const link = join(dirname(dir), 'latest')
  await rm(link, { force: true })
  await symlink(basename(dir), link)
}
