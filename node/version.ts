import { readFileSync } from 'node:fs'

/** The package version, advertised in heartbeats so mixed-version meshes can be spotted. */
export const MESH_VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version
