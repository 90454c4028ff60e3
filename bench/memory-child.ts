/**
 * The memory run, in its own process (started by bench/memory.ts with --expose-gc): `USERS`
 * distinct users, each with their own RS256 token, through `authenticate` with the default cache
 * bounds. Tokens are signed by worker threads (signing costs ~20× verifying), handed over in
 * batches with backpressure so that queued tokens never pile up in this heap. Prints one JSON
 * line: the heap after a full GC at each checkpoint.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { availableParallelism } from 'node:os'
import type { Worker } from 'node:worker_threads'
import { createAuth, type UserDirectory } from 'canonical-auth'
import { startSigner } from './token-signer.js'

const users = Number(process.env.USERS ?? 1_000_000)
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with --expose-gc')

const issuer = 'https://bench.canonical-auth.invalid/'
const audience = 'https://api.bench'
const kid = 'bench-key'
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const jwks = JSON.stringify({
  keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }],
})
const jwksServer = createServer((_req, res) => {
  res.setHeader('content-type', 'application/json')
  res.end(jwks)
}).listen(0, '127.0.0.1')
await new Promise((resolve) => jwksServer.once('listening', resolve))
const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`

// The directory is not what is measured: it answers from nothing and remembers nothing.
const directory: UserDirectory = {
  ensure: async () => ({ id: randomUUID(), created: true }),
  lookup: async () => null,
}
const auth = createAuth({ auth0: { issuer, jwksUri, audience }, directory: { client: directory } })

const workers = Math.max(1, availableParallelism() - 1)
const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
const share = Math.ceil(users / workers)
const queue: string[][] = []
let wake: (() => void) | undefined
const signers = Array.from({ length: workers }, (_, i) => {
  const worker = startSigner({
    pem,
    kid,
    issuer,
    audience,
    from: i * share,
    to: Math.min(users, (i + 1) * share),
    batch: 500,
  })
  worker.on('message', (tokens: string[]) => {
    queue.push(tokens)
    signerOf.set(tokens, worker)
    wake?.()
  })
  return worker
})
const signerOf = new WeakMap<string[], Worker>()

const checkpoints = new Set(
  [0, 1_000, 10_000, 100_000, 250_000, 500_000, users].filter((n) => n <= users),
)
const heap: Array<{ users: number; heapUsedMiB: number }> = []
const measure = (done: number) => {
  gc()
  gc()
  heap.push({ users: done, heapUsedMiB: process.memoryUsage().heapUsed / 2 ** 20 })
}

const start = performance.now()
let done = 0
measure(0)
while (done < users) {
  if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve))
  const tokens = queue.shift() as string[]
  // 16 requests in flight, as a busy service would have.
  for (let i = 0; i < tokens.length; i += 16) {
    await Promise.all(
      tokens
        .slice(i, i + 16)
        .map((token) => auth.authenticate({ headers: { authorization: `Bearer ${token}` } })),
    )
  }
  signerOf.get(tokens)?.postMessage('credit')
  const before = done
  done += tokens.length
  for (const checkpoint of checkpoints)
    if (checkpoint > before && checkpoint <= done) measure(checkpoint)
}
const elapsedSeconds = (performance.now() - start) / 1000
for (const worker of signers) await worker.terminate()
await auth.close()
jwksServer.close()
process.stdout.write(`${JSON.stringify({ users, heap, elapsedSeconds })}\n`)
