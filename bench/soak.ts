/**
 * The sustained-load run: an Express service (bench/soak-server.ts, its own process) under a mix of
 * good, expired, forged, tampered, unknown-user and malformed requests for a fixed time, with a
 * directory outage in the middle. It fails unless every answer is the one that request deserves
 * (the right canonical user id for good tokens; no 5xx but the outage's 502s), the service saw no
 * unhandled rejection or uncaught exception, and its heap after GC stays bounded while distinct
 * users grow far past the cache size.
 *
 *   npx tsx bench/soak.ts [--seconds 60] [--connections 32] [--cache 1000]
 */
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { Agent, createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { AuthConfig } from 'canonical-auth'
import { pinLoadGenerator, pinning, startServer, stopServer } from './server-process.js'
import { startSigner } from './token-signer.js'

export interface SoakOptions {
  readonly seconds: number
  readonly connections: number
  /** The service's cache bounds (users and verified tokens); small, so users outgrow it fast. */
  readonly cacheMax: number
}

type Case =
  | 'good, new user'
  | 'good, returning user'
  | 'expired'
  | 'forged'
  | 'tampered'
  | 'unknown user'
  | 'malformed'

export interface SoakResult {
  readonly options: SoakOptions
  readonly pinned: boolean
  readonly requests: number
  readonly requestsPerSecond: number
  readonly distinctUsers: number
  readonly unknownUsers: number
  /** Per case: requests, and answers by status. */
  readonly cases: Record<string, { requests: number; statuses: Record<string, number> }>
  readonly outageBadGateway: number
  readonly unexpected: number
  readonly unexpectedExamples: string[]
  readonly unhandledRejections: number
  readonly uncaughtExceptions: number
  readonly heap: Array<{ seconds: number; users: number; heapUsedMiB: number; rssMiB: number }>
  /** Whether users outgrew the cache enough (4×, two samples) to judge the heap. */
  readonly heapJudged: boolean
  readonly heapBounded: boolean
  readonly ok: boolean
}

const ISSUER = 'https://soak.canonical-auth.invalid/'
const AUDIENCE = 'https://api.soak'
const KID = 'soak-key'
const RESET_TIMEOUT_MS = 2_000
const GHOST_EVERY = 5

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

function signToken(claims: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: KID })}.${b64(claims)}`
  return `${input}.${sign('RSA-SHA256', Buffer.from(input), key).toString('base64url')}`
}

/** The canonical id the directory owns for user n: stable, so every answer can be checked. */
function userId(n: number): string {
  const hex = createHash('sha256').update(`soak-user-${n}`).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/** The wire contract's lookup: u<n>@acme.com exists, anyone else does not; 503 while `down`. */
async function startDirectory(): Promise<{
  url: string
  state: { down: boolean; calls: number }
  server: Server
}> {
  const state = { down: false, calls: 0 }
  const server = createServer((req, res) => {
    state.calls += 1
    const email = decodeURIComponent(/^\/admin\/user\/(.+)$/.exec(req.url ?? '')?.[1] ?? '')
    if (state.down) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"maintenance"}')
      return
    }
    const n = /^u(\d+)@acme\.com$/.exec(email)?.[1]
    if (n === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}')
      return
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ id: userId(Number(n)), email }))
  })
  server.keepAliveTimeout = 10_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, state, server }
}

interface Signed {
  readonly n: number
  readonly token: string
}

function get(agent: Agent, port: number, path: string, authorization?: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent,
        headers: authorization === undefined ? {} : { authorization },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end()
  })
}

const MALFORMED = [
  undefined,
  '',
  'Bearer',
  'Basic YWRhOnNlY3JldA==',
  'Bearer a.b',
  'Bearer !!!',
  `Bearer ${'A'.repeat(9_000)}.B.C`,
  'Bearer eyJhbGciOiJub25lIn0.e30.',
]

export async function runSoak(
  options: SoakOptions,
  log: (line: string) => void,
): Promise<SoakResult> {
  pinLoadGenerator()
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const forger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
  const jwks = JSON.stringify({
    keys: [{ ...publicKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' }],
  })
  const jwksServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(jwks)
  })
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
  const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`
  const directory = await startDirectory()

  const config: AuthConfig = {
    auth0: { issuer: ISSUER, jwksUri, audience: AUDIENCE },
    directory: {
      baseUrl: directory.url,
      mode: 'lookup',
      timeoutMs: 500,
      deadlineMs: 1_000,
      circuitBreaker: { failureThreshold: 5, resetTimeoutMs: RESET_TIMEOUT_MS },
    },
    cache: { max: options.cacheMax, tokens: { max: options.cacheMax }, negativeMaxAgeMs: 5_000 },
  }
  const { child, port } = await startServer(
    new URL('soak-server.ts', import.meta.url),
    { SOAK_SERVER: JSON.stringify(config) },
    ['--expose-gc'],
  )

  const now = Math.floor(Date.now() / 1000)
  const claimsOf = (i: number, iat: number) => ({
    iss: ISSUER,
    aud: AUDIENCE,
    sub: `samlp|acme-waad|u${i}`,
    email: `u${i}@acme.com`,
    email_verified: true,
    iat,
    exp: iat + 3_600,
  })
  // Expired an hour ago; and current, but signed with a key the key set does not have.
  const expired = Array.from({ length: 50 }, (_, i) =>
    signToken(claimsOf(i, now - 7_200), privateKey),
  )
  const forged = Array.from({ length: 50 }, (_, i) => signToken(claimsOf(i, now), forger))

  // Fresh tokens as fast as one worker signs them: 4 of 5 for directory users, 1 of 5 for ghosts.
  const worker = startSigner({
    pem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    kid: KID,
    issuer: ISSUER,
    audience: AUDIENCE,
    from: 0,
    to: Number.POSITIVE_INFINITY,
    batch: 100,
    ghostEvery: GHOST_EVERY,
  })
  const freshUsers: Signed[] = []
  const freshGhosts: Signed[] = []
  const returning: Signed[] = [] // the last 5,000 users seen, many of them evicted from the cache
  const ghosts: string[] = []
  let distinctUsers = 0
  let unknownUsers = 0
  let signed = 0 // the signer posts users in order: the next token is user number `signed`
  worker.on('message', (batch: string[]) => {
    for (const token of batch) {
      const n = signed++
      ;((n + 1) % GHOST_EVERY === 0 ? freshGhosts : freshUsers).push({ n, token })
    }
    if (freshUsers.length < 2_000) worker.postMessage('credit')
    else setTimeout(() => worker.postMessage('credit'), 50)
  })

  const order: Case[] = [
    'good, new user',
    'good, returning user',
    'unknown user',
    'expired',
    'forged',
    'tampered',
    'malformed',
  ]
  const cases: SoakResult['cases'] = Object.fromEntries(
    order.map((name) => [name, { requests: 0, statuses: {} }]),
  )
  const unexpectedExamples: string[] = []
  let unexpected = 0
  let outageBadGateway = 0
  let requests = 0
  const durationMs = options.seconds * 1_000
  const outage = { from: durationMs * 0.45, to: durationMs * 0.55 }
  const started = performance.now()
  const elapsed = () => performance.now() - started
  // A request may see the outage if any part of it overlaps the outage, or the breaker's open
  // time after it (plus a second and a half for the probe).
  const inOutage = (from: number, to: number) =>
    to >= outage.from && from <= outage.to + RESET_TIMEOUT_MS + 1_500

  const record = (name: Case, status: number, ok: boolean, detail: string) => {
    const entry = cases[name] as { requests: number; statuses: Record<string, number> }
    entry.requests += 1
    entry.statuses[status] = (entry.statuses[status] ?? 0) + 1
    if (!ok) {
      unexpected += 1
      if (unexpectedExamples.length < 10) unexpectedExamples.push(`${name}: ${status} ${detail}`)
    }
  }

  const pick = (): { name: Case; authorization: string | undefined; expectedUser?: number } => {
    const roll = Math.random()
    if (roll < 0.35 && freshUsers.length > 0) {
      const user = freshUsers.shift() as Signed
      distinctUsers += 1
      returning.push(user)
      if (returning.length > 5_000) returning.shift()
      return { name: 'good, new user', authorization: `Bearer ${user.token}`, expectedUser: user.n }
    }
    if (roll < 0.65 && returning.length > 0) {
      const user = returning[Math.floor(Math.random() * returning.length)] as Signed
      return {
        name: 'good, returning user',
        authorization: `Bearer ${user.token}`,
        expectedUser: user.n,
      }
    }
    if (roll < 0.73)
      return {
        name: 'expired',
        authorization: `Bearer ${expired[Math.floor(Math.random() * expired.length)]}`,
      }
    if (roll < 0.79)
      return {
        name: 'forged',
        authorization: `Bearer ${forged[Math.floor(Math.random() * forged.length)]}`,
      }
    if (roll < 0.85 && returning.length > 0) {
      // A returning user's token with one payload character changed: the signature no longer fits.
      const token = (returning[Math.floor(Math.random() * returning.length)] as Signed).token
      const [h, p, s] = token.split('.') as [string, string, string]
      const i = Math.floor(Math.random() * (p.length - 1))
      const swapped = p[i] === 'A' ? 'B' : 'A'
      return {
        name: 'tampered',
        authorization: `Bearer ${h}.${p.slice(0, i)}${swapped}${p.slice(i + 1)}.${s}`,
      }
    }
    if (roll < 0.93) {
      const ghost = freshGhosts.shift()
      if (ghost !== undefined) {
        unknownUsers += 1
        ghosts.push(ghost.token)
        if (ghosts.length > 1_000) ghosts.shift()
        return { name: 'unknown user', authorization: `Bearer ${ghost.token}` }
      }
      if (ghosts.length > 0)
        return {
          name: 'unknown user',
          authorization: `Bearer ${ghosts[Math.floor(Math.random() * ghosts.length)]}`,
        }
    }
    return {
      name: 'malformed',
      authorization: MALFORMED[Math.floor(Math.random() * MALFORMED.length)],
    }
  }

  const check = (
    name: Case,
    status: number,
    body: string,
    expectedUser: number | undefined,
    at: number,
    end: number,
  ): [boolean, string] => {
    let parsed: { userId?: string; error?: string } = {}
    try {
      parsed = JSON.parse(body) as typeof parsed
    } catch {}
    if (
      status === 502 &&
      inOutage(at, end) &&
      parsed.error === 'directory_unavailable' &&
      (name.startsWith('good') || name === 'unknown user')
    ) {
      outageBadGateway += 1
      return [true, '']
    }
    switch (name) {
      case 'good, new user':
      case 'good, returning user':
        return [
          status === 200 && parsed.userId === userId(expectedUser ?? -1),
          `${parsed.userId ?? parsed.error}`,
        ]
      case 'expired':
        return [status === 401 && parsed.error === 'token_expired', `${parsed.error}`]
      case 'forged':
      case 'tampered':
        return [status === 401 && parsed.error === 'token_invalid', `${parsed.error}`]
      case 'unknown user':
        return [status === 401 && parsed.error === 'user_not_provisioned', `${parsed.error}`]
      case 'malformed':
        return [
          (status === 400 || status === 401) && typeof parsed.error === 'string',
          `${parsed.error}`,
        ]
    }
  }

  // Wait for the first signed batch so that the run starts with fresh users.
  while (freshUsers.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))

  const agent = new Agent({ keepAlive: true, maxSockets: options.connections })
  const heap: SoakResult['heap'] = []
  /** Records the service's heap after GC, and returns all it reports (its fault counts too). */
  const sample = async () => {
    const stats = JSON.parse((await get(agent, port, '/__soak/stats')).body) as {
      heapUsed: number
      rss: number
      unhandledRejections: number
      uncaughtExceptions: number
    }
    heap.push({
      seconds: Math.round(elapsed() / 1000),
      users: distinctUsers,
      heapUsedMiB: stats.heapUsed / 2 ** 20,
      rssMiB: stats.rss / 2 ** 20,
    })
    return stats
  }
  let outageStarted = false
  let outageEnded = false
  const clock = setInterval(() => {
    const at = elapsed()
    if (!outageStarted && at >= outage.from) {
      outageStarted = true
      directory.state.down = true
      log(`  ${Math.round(at / 1000)} s: directory down`)
    }
    if (!outageEnded && at >= outage.to) {
      outageEnded = true
      directory.state.down = false
      log(`  ${Math.round(at / 1000)} s: directory back`)
    }
  }, 20)
  // A sample that fails (the service busy past its timeout) is skipped, not fatal to the run.
  const sampler = setInterval(() => void sample().catch(() => {}), Math.max(1_000, durationMs / 12))

  const client = async () => {
    while (elapsed() < durationMs) {
      const { name, authorization, expectedUser } = pick()
      const at = elapsed()
      try {
        const { status, body } = await get(agent, port, '/whoami', authorization)
        requests += 1
        const [ok, detail] = check(name, status, body, expectedUser, at, elapsed())
        record(name, status, ok, detail)
      } catch (error) {
        requests += 1
        record(name, 0, false, (error as Error).message)
      }
    }
  }
  await Promise.all(Array.from({ length: options.connections }, client))
  clearInterval(clock)
  clearInterval(sampler)
  const seconds = elapsed() / 1000
  const stats = await sample()

  agent.destroy()
  await worker.terminate()
  await stopServer(child)
  jwksServer.close()
  directory.server.close()
  directory.server.closeAllConnections()

  // Bounded: once users are several times the cache size, the heap after GC stops growing.
  const saturated = heap.filter((point) => point.users >= options.cacheMax * 4)
  const baseline = saturated[0]?.heapUsedMiB ?? Number.POSITIVE_INFINITY
  // Too short a run to outgrow the cache several times over cannot judge it either way.
  const heapJudged = saturated.length >= 2
  const heapBounded =
    !heapJudged || saturated.every((point) => point.heapUsedMiB <= baseline * 1.3 + 8)
  const result: SoakResult = {
    options,
    pinned: pinning,
    requests,
    requestsPerSecond: requests / seconds,
    distinctUsers,
    unknownUsers,
    cases,
    outageBadGateway,
    unexpected,
    unexpectedExamples,
    unhandledRejections: stats.unhandledRejections,
    uncaughtExceptions: stats.uncaughtExceptions,
    heap,
    heapJudged,
    heapBounded,
    ok:
      unexpected === 0 &&
      stats.unhandledRejections === 0 &&
      stats.uncaughtExceptions === 0 &&
      heapBounded &&
      outageBadGateway > 0,
  }
  return result
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argument = (name: string, fallback: number) => {
    const index = process.argv.indexOf(name)
    return index > 0 ? Number(process.argv[index + 1]) : fallback
  }
  const result = await runSoak(
    {
      seconds: argument('--seconds', 60),
      connections: argument('--connections', 32),
      cacheMax: argument('--cache', 1_000),
    },
    (line) => console.log(line),
  )
  console.log(JSON.stringify(result, null, 2))
  process.exitCode = result.ok ? 0 : 1
}
