import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { MeshDatabase } from '../../../node/store/database.ts'
import { lockHome } from '../../../node/store/home-lock.ts'

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777

describe('a node home is private to its owner', () => {
  let root = ''
  afterEach(async () => { await rm(root, { recursive: true, force: true }) })

  it('a new home is 0700; an existing 0755 home is tightened', async () => {
    root = await mkdtemp(join(tmpdir(), 'mesh-home-'))
    const fresh = join(root, 'fresh')
    const release = await lockHome(fresh)
    expect(await modeOf(fresh)).toBe(0o700)
    await release()

    const wide = join(root, 'wide')
    await mkdir(wide)
    await chmod(wide, 0o755)
    const releaseWide = await lockHome(wide)
    expect(await modeOf(wide)).toBe(0o700)
    await releaseWide()
  })

  it('the database and its WAL are 0600, also when the file existed world-readable', async () => {
    root = await mkdtemp(join(tmpdir(), 'mesh-home-'))
    const db = new MeshDatabase(root)
    db.migrate('test', ['CREATE TABLE t (x TEXT)'])
    db.db.prepare('INSERT INTO t (x) VALUES (?)').run('secret')
    expect(await modeOf(join(root, 'mesh.db'))).toBe(0o600)
    expect(await modeOf(join(root, 'mesh.db-wal'))).toBe(0o600)
    db.close()

    const other = join(root, 'old')
    await mkdir(other)
    await writeFile(join(other, 'mesh.db'), '')
    await chmod(join(other, 'mesh.db'), 0o644)
    const reopened = new MeshDatabase(other)
    expect(await modeOf(join(other, 'mesh.db'))).toBe(0o600)
    reopened.close()
  })
})
