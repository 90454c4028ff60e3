import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  CHUNK_BYTES,
  type FaultRecorder,
  faultRecorder,
  HUGE_BYTES,
  json,
  RedirectTarget,
  type Reply,
  type Route,
  TRICKLE_MS,
  withoutLength,
} from './transport.js'

/** A loopback HTTP server for a route. Resolves once it listens on 127.0.0.1. */
export async function listenLoopback(
  route: Route,
  log: FaultRecorder = faultRecorder(),
): Promise<{ origin: string; close(): Promise<void> }> {
  const timers = new Set<NodeJS.Timeout>()
  const target = new RedirectTarget(log)
  let elsewhere: Promise<{ origin: string; close(): Promise<void> }> | undefined
  const context: HandleContext = {
    timers,
    log,
    async redirect(reply) {
      elsewhere ??= listenLoopback(target.route)
      return `${(await elsewhere).origin}${target.register(reply)}`
    },
  }
  const server = createServer((req, res) => {
    handle(route, req, res, context).catch(() => {
      if (!res.headersSent) res.writeHead(500).end()
      else res.destroy()
    })
  })
  server.keepAliveTimeout = 1_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await (await elsewhere)?.close()
    },
  }
}

interface HandleContext {
  readonly timers: Set<NodeJS.Timeout>
  readonly log: FaultRecorder
  /** The absolute URL a `redirect` reply sends the client to. */
  redirect(reply: () => Reply | Promise<Reply>): Promise<string>
}

async function handle(
  route: Route,
  req: IncomingMessage,
  res: ServerResponse,
  context: HandleContext,
): Promise<void> {
  const { timers, log } = context
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value)
  }
  const reply =
    (await route({
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', 'http://loopback').pathname,
      headers,
      body: Buffer.concat(chunks).toString('utf8'),
    })) ?? json(404, { error: 'not_found' })
  if (reply.kind === 'reset') {
    req.socket.destroy()
    return
  }
  if (reply.kind === 'redirect') {
    res.writeHead(307, { location: await context.redirect(reply.reply) }).end()
    return
  }
  if (reply.kind === 'partial') {
    // Announce the whole body, send half of it, then drop the connection.
    res.writeHead(reply.status, {
      ...reply.headers,
      'content-length': String(Buffer.byteLength(reply.body) * 2 + 1),
    })
    res.write(reply.body, () => res.destroy())
    return
  }
  if (reply.kind === 'trickle' || reply.kind === 'huge') {
    res.writeHead(reply.status, withoutLength(reply.headers))
    res.flushHeaders()
    log.bodiesStarted += 1
    res.on('error', () => {})
    res.on('finish', () => {
      log.bodiesCompleted += 1
    })
    res.on('close', () => {
      if (!res.writableFinished) log.bodiesAbandoned += 1
    })
    if (reply.kind === 'trickle') trickle(res, Buffer.from(reply.body), timers)
    else pump(res, Buffer.from(reply.body))
    return
  }
  const send = () => {
    res.writeHead(reply.status, reply.headers)
    res.end(reply.body)
  }
  if (reply.delayMs === undefined) return send()
  const timer = setTimeout(() => {
    timers.delete(timer)
    send()
  }, reply.delayMs)
  timers.add(timer)
}

/** Writes `body` one byte every {@link TRICKLE_MS}, until it ends or the client goes. */
function trickle(res: ServerResponse, body: Buffer, timers: Set<NodeJS.Timeout>): void {
  let sent = 0
  const timer = setInterval(() => {
    if (sent === body.length) return void res.end()
    res.write(body.subarray(sent, sent + 1))
    sent += 1
  }, TRICKLE_MS)
  timers.add(timer)
  res.on('close', () => {
    clearInterval(timer)
    timers.delete(timer)
  })
}

/** Writes {@link HUGE_BYTES} of whitespace, then `body`, only as fast as the client reads. */
function pump(res: ServerResponse, body: Buffer): void {
  const padding = Buffer.alloc(CHUNK_BYTES, ' ')
  let sent = 0
  const next = () => {
    while (!res.destroyed) {
      if (sent >= HUGE_BYTES) {
        res.end(body)
        return
      }
      sent += padding.length
      if (!res.write(padding)) {
        res.once('drain', next)
        return
      }
    }
  }
  next()
}
