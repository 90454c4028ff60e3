/**
 * The service under the sustained-load run (bench/soak.ts), in its own process with --expose-gc:
 * Express with canonical-auth's `requireAuth`, configured from the SOAK_SERVER environment
 * variable (JSON AuthConfig). `GET /whoami` answers the canonical user id; `GET /__soak/stats`
 * (unauthenticated, loopback only) answers the heap after a full GC and how many unhandled
 * rejections and uncaught exceptions the process has seen. Writes `listening <port>` to stdout.
 */
import type { AddressInfo } from 'node:net'
import { type AuthConfig, createAuth } from 'canonical-auth'
import { requireAuth } from 'canonical-auth/express'
import express from 'express'

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with --expose-gc')

const faults = { unhandledRejections: 0, uncaughtExceptions: 0 }
process.on('unhandledRejection', () => {
  faults.unhandledRejections += 1
})
process.on('uncaughtException', () => {
  faults.uncaughtExceptions += 1
})

const config = JSON.parse(process.env.SOAK_SERVER ?? '{}') as AuthConfig
const auth = createAuth(config)
const app = express()
app.disable('x-powered-by')
app.get('/__soak/stats', (_req, res) => {
  gc()
  gc()
  const memory = process.memoryUsage()
  res.json({ heapUsed: memory.heapUsed, rss: memory.rss, ...faults })
})
app.get('/whoami', requireAuth(auth), (req, res) => {
  res.json({ userId: req.auth?.userId })
})

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`)
})
process.once('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
  void auth.close().then(() => process.exit(0))
})
