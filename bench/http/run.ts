import type { ChildProcess } from 'node:child_process'
import autocannon from 'autocannon'
import { createTestDirectory, createTestIssuer } from 'canonical-auth/testing'
import { type Measurement, summarize } from '../measure.js'
import {
  cpuMicros,
  holdServer,
  pinLoadGenerator,
  pinning,
  startServer as startProcess,
  stopServer,
} from '../server-process.js'
import { FRAMEWORKS, type Framework, LOADED_NO_OP, NO_OP, SIGNATURE_ONLY } from './guards.js'
import type { Guard, ServerSetup } from './server.js'

export interface HttpOptions {
  readonly durationSeconds: number
  readonly warmupSeconds: number
  readonly repetitions: number
  readonly connections: number
}

export interface HttpRow {
  readonly framework: Framework
  readonly guard: Guard
  /** Requests per second: median and min–max over the repetitions, `runs` in the order run. */
  readonly throughput: Measurement
  /** p99 latency in milliseconds, median over the repetitions. */
  readonly p99: number
  /**
   * The server's CPU time per request in microseconds (user and system, from `/proc`), median over
   * the repetitions; undefined where the process's CPU time cannot be read.
   */
  readonly cpuPerRequest: number | undefined
}

/** One load of one server: what autocannon saw and the CPU time the server spent meanwhile. */
interface Run {
  readonly result: autocannon.Result
  readonly cpuMicros: number | undefined
}

/** The library each framework's canonical-auth figures are compared with. */
export const ANCHORS: Readonly<Record<Framework, Guard>> = {
  express: 'express-oauth2-jwt-bearer',
  fastify: 'fastify-auth0-verify',
  koa: 'koa-jwt + jwks-rsa',
}

/** The other libraries each framework is measured with, its anchor first. */
const PEER_GUARDS: Readonly<Record<Framework, readonly Guard[]>> = {
  express: [ANCHORS.express, 'express-jwt + jwks-rsa'],
  fastify: [ANCHORS.fastify],
  koa: [ANCHORS.koa],
}

/**
 * Every server in the comparison: per framework, the baseline, the do-nothing guard, the peer
 * libraries, canonical-auth with and without its verification cache, and the bare signature check.
 */
export const CONTENDERS: ReadonlyArray<{ framework: Framework; guard: Guard }> = FRAMEWORKS.flatMap(
  (framework) =>
    (
      [
        'none',
        NO_OP,
        LOADED_NO_OP,
        ...PEER_GUARDS[framework],
        'canonical-auth',
        'canonical-auth, verification cache off',
        SIGNATURE_ONLY,
      ] as const
    ).map((guard) => ({ framework, guard })),
)

/** Starts one comparison server in its own process and resolves with its port. */
const startServer = (setup: ServerSetup) =>
  startProcess(new URL('server.ts', import.meta.url), { BENCH_SERVER: JSON.stringify(setup) })

/** One autocannon run; any answer but 200 fails the benchmark rather than skewing it. */
async function load(
  url: string,
  token: string,
  seconds: number,
  connections: number,
): Promise<autocannon.Result> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
  })
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(
      `${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts`,
    )
  }
  return result
}

function summarizeRuns(runs: readonly Run[]): Omit<HttpRow, 'framework' | 'guard'> {
  const cpu = runs.flatMap(({ result, cpuMicros }) =>
    cpuMicros === undefined ? [] : [cpuMicros / result.requests.total],
  )
  return {
    throughput: summarize(runs.map(({ result }) => result.requests.average)),
    p99: summarize(runs.map(({ result }) => result.latency.p99)).median,
    // Only when every run's CPU time could be read.
    cpuPerRequest: cpu.length === runs.length ? summarize(cpu).median : undefined,
  }
}

const helloUrl = (port: number) => `http://127.0.0.1:${port}/hello`

/** One timed load of a server, with the CPU time its process spent meanwhile. */
async function measuredLoad(
  server: { child: ChildProcess; port: number },
  token: string,
  options: HttpOptions,
): Promise<Run> {
  const before = cpuMicros(server.child)
  const result = await load(
    helloUrl(server.port),
    token,
    options.durationSeconds,
    options.connections,
  )
  const after = cpuMicros(server.child)
  return {
    result,
    cpuMicros: before === undefined || after === undefined ? undefined : after - before,
  }
}

/** The peers every benchmark server talks to, and the one token every request carries. */
export async function benchPeers() {
  const issuer = await createTestIssuer({ audience: 'https://api.bench' })
  const directory = await createTestDirectory()
  const token = await issuer.sign({
    sub: 'samlp|acme-waad|ada',
    email: 'ada@acme.com',
    email_verified: true,
  })
  return {
    token,
    /** The setup of one server: a framework behind a guard, wired to these peers. */
    setup: (framework: Framework, guard: Guard): ServerSetup => ({
      framework,
      guard,
      issuer: issuer.issuer,
      jwksUri: issuer.jwksUri,
      audience: issuer.audience,
      directoryUrl: directory.baseUrl,
    }),
    async close() {
      await issuer.close()
      await directory.close()
    },
  }
}

/**
 * The HTTP comparison: every contender in {@link CONTENDERS} in its own server process, loaded by
 * autocannon from this process with the same valid Bearer token, after a warm-up, several times.
 * A framework's servers run side by side (the others paused while one is loaded) and are loaded in
 * turn, repetition by repetition, so that a machine that speeds up or slows down during the run
 * moves every contender of a framework alike and their ratios hold.
 */
export async function runHttp(
  options: HttpOptions,
  log: (line: string) => void,
  frameworks?: readonly Framework[],
): Promise<{ rows: HttpRow[]; pinned: boolean }> {
  pinLoadGenerator()
  const peers = await benchPeers()
  const { token } = peers
  const rows: HttpRow[] = []
  const chosen = [...new Set(CONTENDERS.map((contender) => contender.framework))].filter(
    (framework) => frameworks === undefined || frameworks.includes(framework),
  )
  try {
    for (const framework of chosen) {
      const contenders = CONTENDERS.filter((contender) => contender.framework === framework)
      const servers: Array<Awaited<ReturnType<typeof startServer>>> = []
      try {
        for (const { guard } of contenders)
          servers.push(await startServer(peers.setup(framework, guard)))
        // Only the server under load runs; the others are paused meanwhile.
        const only = (server: (typeof servers)[number]) => {
          for (const other of servers) if (other !== server) holdServer(other.child, true)
          holdServer(server.child, false)
        }
        for (const server of servers) {
          only(server)
          await load(helloUrl(server.port), token, options.warmupSeconds, options.connections)
        }
        const results = servers.map((): Run[] => [])
        for (let i = 0; i < options.repetitions; i++) {
          for (const [index, server] of servers.entries()) {
            only(server)
            results[index]?.push(await measuredLoad(server, token, options))
          }
        }
        for (const [index, { guard }] of contenders.entries()) {
          const row = { framework, guard, ...summarizeRuns(results[index] ?? []) }
          rows.push(row)
          log(
            `  ${framework} / ${guard}: ${Math.round(row.throughput.median).toLocaleString('en')} req/s`,
          )
        }
      } finally {
        await Promise.all(servers.map(({ child }) => stopServer(child)))
      }
    }
  } finally {
    await peers.close()
  }
  return { rows, pinned: pinning }
}
