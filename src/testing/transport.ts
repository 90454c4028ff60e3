import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RequestHandler } from 'msw'

/**
 * Ways a fake upstream can misbehave, switched on with `fail(mode)`:
 * - `down`: the connection is reset before any answer;
 * - `slow`: the healthy answer, after {@link SLOW_MS};
 * - `5xx`: a 500 whose body must never surface;
 * - `garbage`: a 200 that is not the expected JSON;
 * - `truncated`: a 200 JSON answer cut in half (a complete response with a broken body);
 * - `reset-mid-body`: the healthy status and headers, half the body, then the connection reset;
 * - `429`: 429 Too Many Requests with `Retry-After: 1`.
 */
export type FaultMode = 'down' | 'slow' | '5xx' | 'garbage' | 'truncated' | 'reset-mid-body' | '429'

/** How long a `slow` upstream takes to answer, in milliseconds. */
export const SLOW_MS = 10_000

/** A request as the fake services see it, whichever transport carried it. */
export interface FakeRequest {
  readonly method: string
  readonly path: string
  readonly headers: Headers
  readonly body: string
}

/** What a fake service answers: a response, a dropped connection, or a response cut short. */
export type Reply =
  | { readonly kind: 'reset' }
  | {
      readonly kind: 'partial'
      readonly status: number
      readonly body: string
      readonly headers?: Record<string, string>
    }
  | {
      readonly kind: 'respond'
      readonly status: number
      readonly body: string
      readonly headers?: Record<string, string>
      readonly delayMs?: number
    }

/** A fake service's request handler; `undefined` means 404. */
export type Route = (request: FakeRequest) => Reply | undefined | Promise<Reply | undefined>

/** A JSON reply. */
export function json(status: number, body: unknown): Reply {
  return {
    kind: 'respond',
    status,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  }
}

// The body a 5xx upstream sends: it must never reach a client, an error message or a log.
export const UPSTREAM_SECRET = 'upstream-internal-detail: stack at db.query (secret=hunter2)'

/** Applies a fault mode to the healthy answer; `garbage` may be given its own plausible nonsense. */
export function withFault(mode: FaultMode | null, healthy: () => Reply, garbage?: Reply): Reply {
  switch (mode) {
    case 'down':
      return { kind: 'reset' }
    case '5xx':
      return {
        kind: 'respond',
        status: 500,
        body: UPSTREAM_SECRET,
        headers: { 'content-type': 'text/plain' },
      }
    case 'garbage':
      return (
        garbage ?? {
          kind: 'respond',
          status: 200,
          body: '<html>not json',
          headers: { 'content-type': 'application/json' },
        }
      )
    case 'slow':
      return { ...(healthy() as Extract<Reply, { kind: 'respond' }>), delayMs: SLOW_MS }
    case 'truncated': {
      const reply = healthy() as Extract<Reply, { kind: 'respond' }>
      return { ...reply, body: reply.body.slice(0, Math.floor(reply.body.length / 2)) }
    }
    case 'reset-mid-body': {
      const reply = healthy() as Extract<Reply, { kind: 'respond' }>
      return {
        kind: 'partial',
        status: reply.status,
        body: reply.body.slice(0, Math.floor(reply.body.length / 2)),
        ...(reply.headers ? { headers: reply.headers } : {}),
      }
    }
    case '429':
      return {
        kind: 'respond',
        status: 429,
        body: JSON.stringify({ error: 'too_many_requests' }),
        headers: { 'content-type': 'application/json', 'retry-after': '1' },
      }
    default:
      return healthy()
  }
}

/** A loopback HTTP server for a route. Resolves once it listens on 127.0.0.1. */
export async function listenLoopback(
  route: Route,
): Promise<{ origin: string; close(): Promise<void> }> {
  const timers = new Set<NodeJS.Timeout>()
  const server = createServer((req, res) => {
    handle(route, req, res, timers).catch(() => {
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
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

async function handle(
  route: Route,
  req: IncomingMessage,
  res: ServerResponse,
  timers: Set<NodeJS.Timeout>,
): Promise<void> {
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
  if (reply.kind === 'partial') {
    // Announce the whole body, send half of it, then drop the connection.
    res.writeHead(reply.status, {
      ...reply.headers,
      'content-length': String(Buffer.byteLength(reply.body) * 2 + 1),
    })
    res.write(reply.body, () => res.destroy())
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

/** msw handlers that answer every request to `origin` through the same route. */
export async function mswHandlers(origin: string, route: Route): Promise<RequestHandler[] | Error> {
  let msw: typeof import('msw')
  try {
    msw = await import('msw')
  } catch (cause) {
    return new Error(
      "canonical-auth/testing: 'handlers' needs msw; install it with `npm i -D msw`",
      { cause },
    )
  }
  const { http, HttpResponse, delay } = msw
  return [
    http.all(`${origin}/*`, async ({ request }) => {
      const reply =
        (await route({
          method: request.method,
          path: new URL(request.url).pathname,
          headers: request.headers,
          body: await request.text(),
        })) ?? json(404, { error: 'not_found' })
      if (reply.kind === 'reset') return HttpResponse.error()
      if (reply.kind === 'partial') {
        const bytes = new TextEncoder().encode(reply.body)
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(bytes)
            controller.error(new TypeError('The connection was reset mid-body'))
          },
        })
        return new HttpResponse(body, {
          status: reply.status,
          ...(reply.headers ? { headers: reply.headers } : {}),
        })
      }
      if (reply.delayMs !== undefined) await delay(reply.delayMs)
      return new HttpResponse(reply.body, {
        status: reply.status,
        ...(reply.headers ? { headers: reply.headers } : {}),
      })
    }),
  ]
}
