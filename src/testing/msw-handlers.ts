import { randomUUID } from 'node:crypto'
import type { RequestHandler } from 'msw'
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

/** A body stream for `trickle` and `huge` replies through msw, generated as it is read. */
function slowBody(reply: Extract<Reply, { kind: 'trickle' | 'huge' }>, log: FaultRecorder) {
  const body = new TextEncoder().encode(reply.body)
  const padding = new Uint8Array(CHUNK_BYTES).fill(0x20)
  let sent = 0
  let wait: NodeJS.Timeout | undefined
  log.bodiesStarted += 1
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (reply.kind === 'huge') {
        if (sent < HUGE_BYTES) {
          sent += padding.length
          controller.enqueue(padding)
          return
        }
        controller.enqueue(body)
      } else {
        await new Promise((resolve) => {
          wait = setTimeout(resolve, TRICKLE_MS)
        })
        if (sent < body.length) {
          controller.enqueue(body.subarray(sent, sent + 1))
          sent += 1
          return
        }
      }
      controller.close()
      log.bodiesCompleted += 1
    },
    cancel() {
      clearTimeout(wait)
      log.bodiesAbandoned += 1
    },
  })
}

/** msw handlers that answer every request to `origin` through the same route. */
export async function mswHandlers(
  origin: string,
  route: Route,
  log: FaultRecorder = faultRecorder(),
): Promise<RequestHandler[] | Error> {
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
  const target = new RedirectTarget(log)
  const elsewhere = `https://elsewhere-${randomUUID().slice(0, 8)}.canonical-auth.invalid`
  const answer = (reply: Reply, request: Request): Response => {
    if (reply.kind === 'reset') return HttpResponse.error()
    if (reply.kind === 'redirect') {
      return new HttpResponse(null, {
        // msw cannot replay a request body to the next hop, so one with a body is sent on by 303.
        status: request.body === null ? 307 : 303,
        headers: { location: `${elsewhere}${target.register(reply.reply)}` },
      })
    }
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
    if (reply.kind === 'trickle' || reply.kind === 'huge') {
      return new HttpResponse(slowBody(reply, log), {
        status: reply.status,
        headers: withoutLength(reply.headers),
      })
    }
    return new HttpResponse(reply.body, {
      status: reply.status,
      ...(reply.headers ? { headers: reply.headers } : {}),
    })
  }
  const serve =
    (routeOf: Route) =>
    async ({ request }: { request: Request }) => {
      const reply =
        (await routeOf({
          method: request.method,
          path: new URL(request.url).pathname,
          headers: request.headers,
          body: await request.text(),
        })) ?? json(404, { error: 'not_found' })
      if (reply.kind === 'respond' && reply.delayMs !== undefined) await delay(reply.delayMs)
      return answer(reply, request)
    }
  return [http.all(`${origin}/*`, serve(route)), http.all(`${elsewhere}/*`, serve(target.route))]
}
