import { randomUUID } from 'node:crypto'
import { canonicalizeEmail } from '../core/lib/email.js'
import { listenLoopback } from './loopback.js'
import { mswHandlers } from './msw-handlers.js'
import {
  type FakeRequest,
  type FaultLog,
  type FaultMode,
  faultRecorder,
  json,
  type MswHandler,
  type Reply,
  type Route,
  withFault,
} from './transport.js'

/** Options for {@link createTestDirectory}. */
export interface TestDirectoryOptions {
  /** `true` (default): a loopback HTTP server. `false`: an `https://…invalid` URL for msw `handlers`. */
  listen?: boolean
  /** Headers every call must carry (e.g. the service credential); otherwise it answers 401. */
  requireHeaders?: Record<string, string>
}

/** A user the test directory holds. */
export interface TestDirectoryUser {
  readonly id: string
  readonly email: string
  /** The Auth0 subs linked to this user, in the order they were first seen. */
  readonly subs: string[]
}

/** An in-memory user directory speaking canonical-auth's wire contract. */
export interface TestDirectory {
  /** Pass as `directory: { baseUrl }`. */
  readonly baseUrl: string
  /** Users by lower-cased email. */
  readonly users: Map<string, TestDirectoryUser>
  /** How many calls each endpoint received (failed ones included). */
  readonly calls: { readonly ensure: number; readonly lookup: number }
  /** Every request received, in order, with its headers. */
  readonly requests: readonly FakeRequest[]
  /** msw handlers answering this directory (needs msw installed). */
  readonly handlers: MswHandler[]
  /** Adds a user, as if created earlier; returns it. */
  addUser(email: string, id?: string): TestDirectoryUser
  /**
   * Makes every call misbehave until `fail(null)`: `down` (connection reset), `slow` (answers after
   * 10 s), `5xx` (500 with an internal body), `garbage` (200 whose `id` is the Auth0 sub, not a UUID),
   * `truncated` (200 with half a JSON body), `reset-mid-body` (half the body, then the connection
   * reset), `429` (with `Retry-After: 1`), `trickle` (the answer's body one byte every 500 ms),
   * `huge` (64 MiB of whitespace before the answer), `redirect` (a 307 to another server that
   * records what it receives in {@link TestDirectory.faultLog} and answers like this directory).
   * Calls are counted whatever the mode.
   */
  fail(mode: FaultMode | null): void
  /**
   * Makes the directory refuse one user: every call about `email` (ensure or lookup, any case)
   * answers `status` (e.g. 403 for a deactivated user, 409 for a conflicting identity) with a JSON
   * error body, until `refuse(email, null)`. A fault mode set with {@link fail} takes precedence,
   * as an unreachable directory refuses nobody.
   *
   * @example
   * ```ts
   * directory.refuse('fired@acme.com', 403)   // that user now gets identity_untrusted; others log in
   * ```
   */
  refuse(email: string, status: number | null): void
  /** How clients treated the `trickle`, `huge` and `redirect` fault modes. */
  readonly faultLog: FaultLog
  /** Stops the loopback server. */
  close(): Promise<void>
}

const ENSURE = '/api/v1/users/ensure'
const LOOKUP = '/admin/user/'

/**
 * Starts an in-memory user directory for tests: `POST /api/v1/users/ensure` (get-or-create: 201
 * created, 200 existing) and `GET /admin/user/{email}` (200 or 404).
 *
 * @example
 * ```ts
 * const directory = await createTestDirectory()
 * const auth = createAuth({ auth0: issuer.auth0, directory: { baseUrl: directory.baseUrl } })
 * directory.fail('down')   // now every resolution is a 502 directory_unavailable
 * ```
 */
export async function createTestDirectory(
  options: TestDirectoryOptions = {},
): Promise<TestDirectory> {
  const users = new Map<string, TestDirectoryUser>()
  const calls = { ensure: 0, lookup: 0 }
  const requests: FakeRequest[] = []
  let fault: FaultMode | null = null
  const faultLog = faultRecorder()
  const refused = new Map<string, number>()

  const addUser = (email: string, id: string = randomUUID()): TestDirectoryUser => {
    const user = { id, email, subs: [] }
    users.set(email.toLowerCase(), user)
    return user
  }

  const authorised = (request: FakeRequest): boolean =>
    Object.entries(options.requireHeaders ?? {}).every(
      ([name, value]) => request.headers.get(name) === value,
    )

  const ensure = (request: FakeRequest): Reply => {
    let body: { email?: unknown; auth0_sub?: unknown }
    try {
      body = JSON.parse(request.body) as typeof body
    } catch {
      return json(400, { error: 'invalid_json' })
    }
    if (typeof body.email !== 'string' || body.email === '')
      return json(400, { error: 'email_required' })
    if (canonicalizeEmail(body.email) === undefined) return json(400, { error: 'invalid_email' })
    const sub = typeof body.auth0_sub === 'string' ? body.auth0_sub : undefined
    return withFault(
      fault,
      () => {
        const status = refused.get((body.email as string).toLowerCase())
        if (status !== undefined) return json(status, { error: 'refused' })
        const existing = users.get((body.email as string).toLowerCase())
        const user = existing ?? addUser(body.email as string)
        if (sub !== undefined && !user.subs.includes(sub)) user.subs.push(sub)
        return json(existing ? 200 : 201, { id: user.id, email: user.email, created: !existing })
      },
      json(200, { id: sub ?? 'not-a-uuid', email: body.email, created: false }),
    )
  }

  const lookup = (request: FakeRequest): Reply => {
    const email = decodeURIComponent(request.path.slice(LOOKUP.length))
    return withFault(
      fault,
      () => {
        const status = refused.get(email.toLowerCase())
        if (status !== undefined) return json(status, { error: 'refused' })
        const user = users.get(email.toLowerCase())
        return user
          ? json(200, { id: user.id, email: user.email })
          : json(404, { error: 'not_found' })
      },
      json(200, { id: 'not-a-uuid', email }),
    )
  }

  const route: Route = (request) => {
    requests.push(request)
    if (request.method === 'POST' && request.path === ENSURE) {
      calls.ensure += 1
      return authorised(request) ? ensure(request) : json(401, { error: 'unauthorized' })
    }
    if (
      request.method === 'GET' &&
      request.path.startsWith(LOOKUP) &&
      request.path.length > LOOKUP.length
    ) {
      calls.lookup += 1
      return authorised(request) ? lookup(request) : json(401, { error: 'unauthorized' })
    }
    return undefined
  }

  let baseUrl: string
  let close = async () => {}
  if (options.listen === false) {
    baseUrl = `https://directory-${randomUUID().slice(0, 8)}.canonical-auth.invalid`
  } else {
    const server = await listenLoopback(route, faultLog)
    baseUrl = server.origin
    close = server.close
  }
  const handlers = await mswHandlers(baseUrl, route, faultLog)

  return {
    baseUrl,
    users,
    calls,
    requests,
    get handlers() {
      if (handlers instanceof Error) throw handlers
      return handlers
    },
    addUser,
    fail(mode) {
      fault = mode
    },
    refuse(email, status) {
      if (status === null) refused.delete(email.toLowerCase())
      else refused.set(email.toLowerCase(), status)
    },
    faultLog,
    close: () => close(),
  }
}
