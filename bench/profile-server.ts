/**
 * Profiling aid (not part of `npm run bench`): one benchmark server under autocannon with
 * `--cpu-prof`, to see where a framework's request time goes behind a guard.
 *
 *   npx tsx bench/profile-server.ts fastify canonical-auth [seconds] [profile directory]
 *
 * Prints the heaviest functions by self time, in microseconds per request.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { benchPeers } from './http/run.js'
import type { Framework, Guard } from './http/server.js'
import { pinLoadGenerator, startServer, stopServer } from './server-process.js'

const framework = (process.argv[2] ?? 'fastify') as Framework
const guard = (process.argv[3] ?? 'canonical-auth') as Guard
const seconds = Number(process.argv[4] ?? 5)
const directoryName = process.argv[5] ?? `/tmp/canonical-auth-profile-${Date.now()}`
mkdirSync(directoryName, { recursive: true })

pinLoadGenerator()
const peers = await benchPeers()
const { token } = peers
const { child, port } = await startServer(
  new URL('http/server.ts', import.meta.url),
  { BENCH_SERVER: JSON.stringify(peers.setup(framework, guard)) },
  ['--cpu-prof', `--cpu-prof-dir=${directoryName}`],
)
const url = `http://127.0.0.1:${port}/hello`
const headers = { authorization: `Bearer ${token}` }
const warmup = await autocannon({ url, connections: 32, duration: 2, headers })
const result = await autocannon({ url, connections: 32, duration: seconds, headers })
await stopServer(child)
await peers.close()

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}
// One profile per thread; the server's main thread is the one that was busy.
const busySamples = (profile: Profile) => {
  const idle = new Set(
    profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id),
  )
  return profile.samples.filter((id) => !idle.has(id)).length
}
const profiles = readdirSync(directoryName)
  .filter((name) => name.endsWith('.cpuprofile'))
  .map((name) => join(directoryName, name))
  .map((file) => ({ file, profile: JSON.parse(readFileSync(file, 'utf8')) as Profile }))
  .sort((a, b) => busySamples(b.profile) - busySamples(a.profile))
const { file, profile } = profiles[0] as { file: string; profile: Profile }
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const self = new Map<string, number>()
for (const [index, id] of profile.samples.entries()) {
  const frame = byId.get(id)?.callFrame
  if (frame === undefined) continue
  const where = frame.url
    .replace(/^.*node_modules\//, '')
    .replace(/^file:\/\/.*\/(dist|src)\//, '$1/')
  const key = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`
  self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[index] ?? 0))
}
// The profile covers the warm-up too.
const requests = warmup.requests.total + result.requests.total
console.log(
  `${framework} / ${guard}: ${Math.round(result.requests.average)} req/s; profile ${file}`,
)
// canonical-auth's own functions (from source or the built package) and its caches' library.
const ours = (key: string) => /(^|\s)(src|dist)\/|lru-cache\//.test(key)
const busy = [...self].filter(([key]) => !key.startsWith('(idle)'))
const total = busy.reduce((sum, [, micros]) => sum + micros, 0)
const own = busy.filter(([key]) => ours(key)).reduce((sum, [, micros]) => sum + micros, 0)
const collector = self.get('(garbage collector) :0') ?? 0
console.log(
  `canonical-auth and its caches: ${(own / requests).toFixed(2)} µs a request, ` +
    `${((own / total) * 100).toFixed(1)} % of the server's busy time; garbage collection ` +
    `${((collector / total) * 100).toFixed(1)} %`,
)
for (const [key, micros] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
  console.log(`${(micros / requests).toFixed(2).padStart(7)} µs  ${key}`)
}
