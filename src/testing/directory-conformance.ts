import { randomUUID } from 'node:crypto'

/** Options for {@link runDirectoryConformance}. */
export interface DirectoryConformanceOptions {
  /** The directory's base URL, as `directory.baseUrl` names it. */
  readonly baseUrl: string
  /**
   * The service credential every call carries, such as `{ authorization: 'Bearer …' }`. With it,
   * the check that calls without it are refused runs too.
   */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /**
   * The domain of the users the check creates. Default `canonical-auth-conformance.test`: `.test`
   * is reserved (RFC 6761), so no real person ever has such an address.
   */
  readonly domain?: string | undefined
  /** Concurrent ensures for one new email. Default 100. */
  readonly concurrency?: number | undefined
  /** The deadline of each request, in milliseconds. Default 10 000. */
  readonly timeoutMs?: number | undefined
}

/** How one rule of the wire contract held. */
export interface DirectoryConformanceResult {
  /** The rule, such as `ensure is idempotent`. */
  readonly rule: string
  /** Whether the directory honours it (true for a rule skipped). */
  readonly ok: boolean
  /** What was seen, in one line. */
  readonly message: string
  /** The rule was not checked: the options do not configure what it needs. */
  readonly skipped?: true
}

/** The result of {@link runDirectoryConformance}: every rule's result, in order. */
export interface DirectoryConformanceReport {
  /** True when no rule failed. */
  readonly passed: boolean
  readonly results: readonly DirectoryConformanceResult[]
  /** The domain of the users created. */
  readonly domain: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const ENSURE = '/api/v1/users/ensure'
const LOOKUP = '/admin/user/'

interface Answer {
  readonly status: number
  readonly body: Record<string, unknown> | undefined
}

/**
 * Checks a live user directory against the wire contract canonical-auth's HTTP client speaks:
 * ensure creates (201, `created: true`) then answers the same user (200, same id); concurrent
 * ensures for one new email create one user; ids are UUIDs and never the sub; lookup finds what
 * ensure created and answers 404 for an unknown email; emails that canonicalise the same are one
 * user; the service credential is required when one is given; malformed bodies are refused with a
 * 4xx. It creates users with addresses under the reserved `.test` domain, safe against a staging
 * directory. Resolves with every rule's result; rejects only for options that are not usable.
 *
 * @example
 * ```ts
 * const report = await runDirectoryConformance({
 *   baseUrl: process.env.DIRECTORY_URL,
 *   headers: { authorization: `Bearer ${process.env.DIRECTORY_TOKEN}` },
 * })
 * expect(report.results.filter((result) => !result.ok)).toEqual([])
 * ```
 */
export async function runDirectoryConformance(
  options: DirectoryConformanceOptions,
): Promise<DirectoryConformanceReport> {
  if (typeof options.baseUrl !== 'string' || !URL.canParse(options.baseUrl)) {
    throw new TypeError('runDirectoryConformance: baseUrl must be the directory\u2019s http(s) URL')
  }
  const base = new URL(options.baseUrl).href.replace(/\/+$/, '')
  const domain = options.domain ?? 'canonical-auth-conformance.test'
  if (!isReservedDomain(domain)) {
    throw new TypeError(
      'runDirectoryConformance: domain must be under a reserved name (.test, .example, .invalid or example.com), so that no real person has an address there',
    )
  }
  if (
    options.concurrency !== undefined &&
    !(Number.isInteger(options.concurrency) && options.concurrency >= 2)
  ) {
    throw new TypeError('runDirectoryConformance: concurrency must be an integer of at least 2')
  }
  const timeoutMs = options.timeoutMs ?? 10_000
  const headers = options.headers ?? {}
  const call = async (
    method: 'GET' | 'POST',
    path: string,
    body?: string,
    withHeaders: Readonly<Record<string, string>> = headers,
  ): Promise<Answer> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...withHeaders,
      },
      ...(body === undefined ? {} : { body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    })
    let parsed: unknown
    try {
      parsed = await response.json()
    } catch {
      parsed = undefined
    }
    const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    return {
      status: response.status,
      body: isObject ? (parsed as Record<string, unknown>) : undefined,
    }
  }
  const newEmail = () => `conformance-${randomUUID()}@${domain}`
  const ensure = (email: string, sub = `samlp|conformance|${randomUUID()}`) =>
    call(
      'POST',
      ENSURE,
      JSON.stringify({ email, email_verified: true, auth0_sub: sub, connection: 'conformance' }),
    )
  const lookup = (email: string, withHeaders?: Readonly<Record<string, string>>) =>
    call('GET', `${LOOKUP}${encodeURIComponent(email)}`, undefined, withHeaders)

  const results: DirectoryConformanceResult[] = []
  // Set when the first ensure got no usable answer (unreachable, the credential refused): every
  // later rule would fail for that one reason, so each is skipped with it instead.
  let blocked: string | undefined
  const check = async (rule: string, run: () => Promise<string>) => {
    if (blocked !== undefined) {
      results.push({ rule, ok: true, skipped: true, message: blocked })
      return
    }
    try {
      results.push({ rule, ok: true, message: await run() })
    } catch (error) {
      results.push({ rule, ok: false, message: failure(error) })
    }
  }

  const email = newEmail()
  const sub = `samlp|conformance|${randomUUID()}`
  let created: string | undefined
  await check('ensure creates a new user', async () => {
    let answer: Answer
    try {
      answer = await ensure(email, sub)
    } catch (error) {
      blocked = `not checked: the first ensure got no answer (${failure(error)})`
      throw error
    }
    if (answer.status === 401 || answer.status === 403) {
      const why =
        Object.keys(headers).length === 0
          ? 'the directory wants a service credential, and none was given (headers, or --header)'
          : 'the directory refused the credential'
      blocked = `not checked: ${why} (${answer.status})`
      broken(`ensure answered ${answer.status}: ${why}`)
    }
    expectStatus(answer, [201], 'ensure for a new email')
    if (answer.body?.created !== true)
      broken('ensure for a new email answered 201 without created: true')
    created = idOf(answer, 'ensure', sub)
    return '201 with created: true and a UUID'
  })
  await check('ensure is idempotent', async () => {
    const answer = await ensure(email, sub)
    if (answer.status === 201 || answer.body?.created === true) {
      broken('ensure for an existing email created a user again (201 / created: true)')
    }
    expectStatus(answer, [200], 'ensure for an existing email')
    const id = idOf(answer, 'ensure', sub)
    if (created !== undefined && id !== created)
      broken('ensure for an existing email answered another id')
    if (answer.body?.created !== false)
      broken('ensure for an existing email answered without created: false')
    return '200 with created: false and the same id'
  })
  await check('ids are UUIDs, never the sub', async () => {
    if (created === undefined) broken('no id to check: see the first rule')
    return 'the id is a UUID, not the auth0_sub sent'
  })
  const concurrency = options.concurrency ?? 100
  await check(`${concurrency} concurrent ensures create one user`, async () => {
    const racing = newEmail()
    const answers = await Promise.all(Array.from({ length: concurrency }, () => ensure(racing)))
    const statuses = new Set(answers.map((answer) => answer.status))
    for (const status of statuses) {
      if (status !== 200 && status !== 201) broken(`a concurrent ensure answered ${status}`)
    }
    const ids = new Set(answers.map((answer) => idOf(answer, 'ensure')))
    if (ids.size !== 1)
      broken(`${concurrency} concurrent ensures for one email made ${ids.size} users`)
    const creations = answers.filter((answer) => answer.status === 201).length
    if (creations !== 1)
      broken(`${creations} of ${concurrency} concurrent ensures answered 201; exactly one should`)
    return `one user, one 201, ${concurrency - 1} answers of 200`
  })
  await check('lookup finds what ensure created', async () => {
    const answer = await lookup(email)
    expectStatus(answer, [200], 'lookup of a user ensure created')
    if (created !== undefined && idOf(answer, 'lookup') !== created)
      broken('lookup answered another id than ensure')
    return '200 with the same id'
  })
  await check('lookup answers 404 for an unknown email', async () => {
    const answer = await lookup(newEmail())
    if (answer.status === 200)
      broken('lookup answered 200 for an email nobody has: it must answer 404')
    expectStatus(answer, [404], 'lookup of an unknown email')
    return '404'
  })
  await check('emails that canonicalise the same are one user', async () => {
    const [local = '', host = ''] = email.split('@')
    const variant = `${local.toUpperCase()}@${host.toUpperCase()}`
    const ensured = await ensure(variant, sub)
    if (ensured.status === 201)
      broken('ensure of an upper-case spelling created a second user: emails are not canonicalised')
    expectStatus(ensured, [200], 'ensure of an upper-case spelling')
    if (created !== undefined && idOf(ensured, 'ensure') !== created)
      broken('an upper-case spelling of the email is another user')
    const found = await lookup(variant)
    expectStatus(found, [200], 'lookup of an upper-case spelling')
    if (created !== undefined && idOf(found, 'lookup') !== created)
      broken('lookup of an upper-case spelling answered another id')
    return 'the upper-case spelling is the same user, for ensure and lookup'
  })
  if (Object.keys(headers).length === 0 || blocked !== undefined) {
    results.push({
      rule: 'the service credential is required',
      ok: true,
      skipped: true,
      message:
        blocked ??
        'no credential given (headers, or --header), so calls without one were not tried',
    })
  } else {
    await check('the service credential is required', async () => {
      const answers = [
        await call(
          'POST',
          ENSURE,
          JSON.stringify({
            email: newEmail(),
            email_verified: true,
            auth0_sub: 'samlp|conformance|x',
          }),
          {},
        ),
        await lookup(email, {}),
      ]
      for (const answer of answers) {
        if (answer.status !== 401 && answer.status !== 403) {
          broken(
            `a call without the credential answered ${answer.status}; it must answer 401 or 403`,
          )
        }
      }
      return 'ensure and lookup without it answer 401 or 403'
    })
  }
  await check('malformed bodies are refused with 400 or 422', async () => {
    const bodies: Array<[string, string]> = [
      ['a body that is not JSON', 'not json'],
      [
        'a body without an email',
        JSON.stringify({ email_verified: true, auth0_sub: 'samlp|conformance|x' }),
      ],
      [
        'an email that is not one',
        JSON.stringify({
          email: 'not-an-email',
          email_verified: true,
          auth0_sub: 'samlp|conformance|x',
        }),
      ],
    ]
    const statuses = new Set<number>()
    for (const [what, body] of bodies) {
      const answer = await call('POST', ENSURE, body)
      statuses.add(answer.status)
      if (answer.status !== 400 && answer.status !== 422) {
        broken(`ensure with ${what} answered ${answer.status}; it must answer 400`)
      }
    }
    return `each answered ${[...statuses].join(' or ')}`
  })
  return { passed: results.every((result) => result.ok), results, domain }
}

class Broken extends Error {}

function broken(message: string): never {
  throw new Broken(message)
}

function expectStatus(answer: Answer, expected: readonly number[], what: string): void {
  if (!expected.includes(answer.status)) {
    broken(`${what} answered ${answer.status}; the contract says ${expected.join(' or ')}`)
  }
}

function idOf(answer: Answer, what: string, sub?: string): string {
  const id = answer.body?.id
  if (typeof id !== 'string') broken(`${what} answered ${answer.status} without an id`)
  if (sub !== undefined && id === sub)
    broken(`${what} answered the auth0_sub as the id: ids must be the directory's own UUIDs`)
  if (!UUID.test(id)) broken(`${what} answered an id that is not a UUID`)
  return id
}

function failure(error: unknown): string {
  if (error instanceof Broken) return error.message
  const name = (error as { name?: unknown } | null)?.name
  if (name === 'TimeoutError') return 'no answer within the deadline'
  return 'the directory could not be reached'
}

/** Whether `domain` is under a name no one can register (RFC 2606, RFC 6761). */
function isReservedDomain(domain: string): boolean {
  const name = domain.toLowerCase()
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(name)) return false
  return (
    /(^|\.)(test|example|invalid|localhost)$/.test(name) ||
    /(^|\.)example\.(com|net|org)$/.test(name)
  )
}
