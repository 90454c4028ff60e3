/**
 * Ways a fake upstream can misbehave, switched on with `fail(mode)`:
 * - `down`: the connection is reset before any answer;
 * - `slow`: the healthy answer, after {@link SLOW_MS};
 * - `5xx`: a 500 whose body must never surface;
 * - `garbage`: a 200 that is not the expected JSON;
 * - `truncated`: a 200 JSON answer cut in half (a complete response with a broken body);
 * - `reset-mid-body`: the healthy status and headers, half the body, then the connection reset;
 * - `429`: 429 Too Many Requests with `Retry-After: 1`;
 * - `trickle`: the healthy status and headers at once, then the healthy body one byte every
 *   {@link TRICKLE_MS} (tens of seconds for even a small answer): a client whose timeout ends at
 *   the headers waits for all of it;
 * - `huge`: the healthy status and headers (no `Content-Length`), then {@link HUGE_BYTES} of
 *   whitespace before the healthy body: valid JSON that only a client without a byte cap reads
 *   to its end. Generated as it is read, never held in memory;
 * - `redirect`: a `307` to another server (loopback, or an msw origin), which answers the healthy
 *   answer to whoever follows it and records every request it receives, headers and body
 *   included, in {@link FaultLog.redirected}. Through msw a request with a body gets a `303`
 *   instead, as msw cannot replay a body to the next hop.
 *
 * How a client treated `trickle` and `huge` bodies is in the fake's {@link FaultLog}.
 */
export type FaultMode = (typeof FAULT_MODES)[number]

/** Every {@link FaultMode}, for a test that puts an upstream through each (`describe.each`). */
export const FAULT_MODES = [
  'down',
  'slow',
  '5xx',
  'garbage',
  'truncated',
  'reset-mid-body',
  '429',
  'trickle',
  'huge',
  'redirect',
] as const

/** How long a `slow` upstream takes to answer, in milliseconds. */
export const SLOW_MS = 10_000

/** How long a `trickle` upstream waits between two bytes of its body, in milliseconds. */
export const TRICKLE_MS = 500

/** How many bytes a `huge` upstream sends before its healthy body: 64 MiB. */
export const HUGE_BYTES = 64 * 1_048_576

/**
 * What a fake upstream saw of the client under the `trickle`, `huge` and `redirect` modes. A
 * client that bounds its reads by a deadline and a byte cap leaves `bodiesCompleted` at 0; one
 * that follows no redirect leaves `redirected` empty.
 */
export interface FaultLog {
  /** `trickle` and `huge` bodies the fake started to send. */
  readonly bodiesStarted: number
  /** Of those, how many were sent to their end: the client read all of it. */
  readonly bodiesCompleted: number
  /**
   * Of those, how many the client stopped reading before their end by closing the connection.
   * Seen by the loopback server only: through msw a client's cancel does not reach the fake.
   */
  readonly bodiesAbandoned: number
  /** Every request the `redirect` mode's target received: only a client that followed it. */
  readonly redirected: readonly FakeRequest[]
}

/** A {@link FaultLog} that the transport writes to. */
export interface FaultRecorder extends FaultLog {
  bodiesStarted: number
  bodiesCompleted: number
  bodiesAbandoned: number
  readonly redirected: FakeRequest[]
}

/** An empty {@link FaultRecorder}. */
export function faultRecorder(): FaultRecorder {
  return { bodiesStarted: 0, bodiesCompleted: 0, bodiesAbandoned: 0, redirected: [] }
}

/** A request as the fake services see it, whichever transport carried it. */
export interface FakeRequest {
  readonly method: string
  readonly path: string
  readonly headers: Headers
  readonly body: string
}

type Healthy = {
  readonly status: number
  readonly body: string
  readonly headers?: Record<string, string>
}

/**
 * What a fake service answers: a response, a dropped connection, a response cut short, a body
 * sent slowly (`trickle`) or endlessly (`huge`), or a redirect to a server that answers `reply`.
 */
export type Reply =
  | { readonly kind: 'reset' }
  | ({ readonly kind: 'trickle' } & Healthy)
  | ({ readonly kind: 'huge' } & Healthy)
  | { readonly kind: 'redirect'; readonly reply: () => Reply | Promise<Reply> }
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
    case 'trickle':
    case 'huge': {
      const { status, body, headers } = healthy() as Extract<Reply, { kind: 'respond' }>
      return { kind: mode, status, body, ...(headers ? { headers } : {}) }
    }
    case 'redirect':
      return { kind: 'redirect', reply: healthy }
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

/** `huge` bodies are sent in chunks of this size. */
export const CHUNK_BYTES = 65_536

/** Headers without `Content-Length`, for bodies whose length is not announced. */
export const withoutLength = (
  headers: Record<string, string> | undefined,
): Record<string, string> => {
  const { 'content-length': _, ...rest } = headers ?? {}
  return rest
}

/**
 * Where `redirect` replies send clients: a second server, started on first use, that records
 * each request in `log.redirected` and answers the reply registered for its path.
 */
export class RedirectTarget {
  readonly #pending = new Map<string, () => Reply | Promise<Reply>>()
  readonly #log: FaultRecorder

  constructor(log: FaultRecorder) {
    this.#log = log
  }

  /** Registers the reply a follower gets; returns the path to send it to. */
  register(reply: () => Reply | Promise<Reply>): string {
    const path = `/moved/${this.#pending.size + 1}`
    this.#pending.set(path, reply)
    return path
  }

  /** The target's own route. */
  readonly route: Route = async (request) => {
    this.#log.redirected.push(request)
    return this.#pending.get(request.path)?.()
  }
}

/**
 * An msw request handler, for `server.use(...issuer.handlers)`. Typed loosely on purpose: the
 * kit's types must compile for users who do not install msw, and msw's own `RequestHandler` type
 * cannot be named without it. The values are msw's handlers.
 */
// biome-ignore lint/suspicious/noExplicitAny: msw's type cannot be named without msw installed
export type MswHandler = any
