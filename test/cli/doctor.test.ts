import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createTestDirectory,
  createTestIssuer,
  type TestDirectory,
  type TestIssuer,
} from 'canonical-auth/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listening } from '../helpers.js'
import { type RedisServer, redisAvailable, startRedisServer } from '../redis-server.js'
import { check, type JsonReport, runCli, runInProcess, statuses } from './run-cli.js'

// `doctor` against a healthy deployment and a deliberately broken one, each configured by a
// config module as a service would be, run as a process.

// A deployment: the tenant, the directory and its credential, a cache store and a discovery
// resolver, each healthy or broken as the environment says.
const CONFIG_MODULE = `
const entries = new Map()
const broken = process.env.BROKEN === '1'
// A store whose client is still connecting refuses commands for a moment, as the Redis store does.
const readyAt = Date.now() + (process.env.WARMING === '1' ? 300 : 0)
export default async () => ({
  auth0: { issuer: process.env.ISSUER, jwksUri: process.env.JWKS_URI, audience: 'https://api.example.com' },
  directory: {
    baseUrl: process.env.DIRECTORY,
    headers: { authorization: broken ? 'Bearer wrong' : 'Bearer svc' },
  },
  cache: {
    store: {
      async get(key) { if (broken) throw new Error('ECONNREFUSED 10.0.0.7:6379'); return entries.get(key) },
      async set(key, value) {
        if (broken) throw new Error('ECONNREFUSED 10.0.0.7:6379')
        if (Date.now() < readyAt) throw new Error('the client is not ready')
        if (process.env.SLOW === '1') return new Promise(() => {})
        entries.set(key, value)
      },
      async delete(key) { entries.delete(key) },
    },
  },
  discovery: {
    resolver: async () => { if (broken) throw new Error('resolver down'); return undefined },
  },
})
`

let issuer: TestIssuer
let directory: TestDirectory
let skewed: Server
let skewedUrl: string
let closeSkewed: (() => Promise<void>) | undefined
let dir: string

beforeAll(async () => {
  issuer = await createTestIssuer()
  directory = await createTestDirectory({ requireHeaders: { authorization: 'Bearer svc' } })
  // An issuer whose clock is ten minutes behind this machine's.
  skewed = createServer((req, res) => {
    // Metadata past the library's byte cap, and metadata that has moved.
    if (req.url === '/huge/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ issuer: `${skewedUrl}/huge/`, padding: 'x'.repeat(300_000) }))
      return
    }
    if (req.url === '/moved/.well-known/openid-configuration') {
      res.writeHead(302, { location: `${skewedUrl}/.well-known/openid-configuration` }).end()
      return
    }
    const body =
      req.url === '/.well-known/openid-configuration'
        ? { issuer: `${skewedUrl}/`, jwks_uri: `${skewedUrl}/jwks.json` }
        : issuer.jwks
    res
      .writeHead(200, {
        'content-type': 'application/json',
        date: new Date(Date.now() - 600_000).toUTCString(),
      })
      .end(JSON.stringify(body))
  })
  const server = await listening(skewed.listen(0, '127.0.0.1'))
  skewedUrl = server.origin
  closeSkewed = server.close
  dir = await mkdtemp(join(tmpdir(), 'canonical-auth-doctor-'))
  await writeFile(join(dir, 'auth.config.mjs'), CONFIG_MODULE)
})

afterAll(async () => {
  await issuer?.close()
  await directory?.close()
  await closeSkewed?.()
  await rm(dir, { recursive: true, force: true })
})

async function doctor(env: Record<string, string>) {
  const run = await runCli(['doctor', '--config', 'auth.config.mjs', '--json'], {
    cwd: dir,
    env: { DIRECTORY: directory.baseUrl, ...env },
  })
  expect(run.stderr).toBe('')
  return { code: run.code, report: JSON.parse(run.stdout) as JsonReport }
}

describe('canonical-auth doctor', () => {
  it('passes a healthy deployment, every part tried', async () => {
    const { code, report } = await doctor({ ISSUER: issuer.issuer, JWKS_URI: issuer.jwksUri })
    expect(statuses(report)).toEqual([
      'configuration: pass',
      'metadata: pass',
      'key set: pass',
      'clock: pass',
      'directory: pass',
      'cache store: pass',
      'discovery: pass',
    ])
    expect(code).toBe(0)
    expect(check(report, 'key set').detail).toBe(
      `${issuer.jwksUri}: 1 usable key (RSA kid "${issuer.kid}" for RS256)`,
    )
    expect(report.summary).toBe('the deployment is ready')
    // The directory was asked about a reserved address, with the credential.
    expect(directory.calls.lookup).toBeGreaterThan(0)
    expect([...directory.users.keys()]).toEqual([])
  })

  it('finds each broken piece of a broken deployment, each with a fix', async () => {
    const { code, report } = await doctor({
      ISSUER: `${skewedUrl}/`,
      JWKS_URI: `${skewedUrl}/jwks.json`,
      BROKEN: '1',
    })
    expect(code).toBe(1)
    expect(statuses(report)).toEqual([
      'configuration: pass',
      'metadata: pass',
      'key set: pass',
      'clock: fail',
      'directory: fail',
      'cache store: fail',
      'discovery: fail',
    ])
    expect(check(report, 'clock')).toMatchObject({
      detail: expect.stringMatching(
        /^10 min( \d+ s)? ahead of the issuer's, beyond the 5 s tolerance/,
      ),
      fix: expect.stringMatching(/NTP/),
    })
    expect(check(report, 'directory')).toMatchObject({
      detail: `${directory.baseUrl} refused the service credential (401)`,
      fix: 'check directory.headers (the service credential)',
    })
    expect(check(report, 'cache store').fix).toMatch(/connection/)
    expect(report.summary).toBe('4 checks failed')
    // What a broken part said is not copied out: no upstream detail, no credential.
    const printed = JSON.stringify(report)
    expect(printed).not.toContain('10.0.0.7')
    expect(printed).not.toContain('Bearer wrong')
  })

  it('fails a key set that is not there, and a tenant whose metadata names another issuer', async () => {
    const missing = await doctor({
      ISSUER: issuer.issuer,
      JWKS_URI: `${issuer.issuer}missing.json`,
    })
    expect(check(missing.report, 'key set')).toMatchObject({
      status: 'fail',
      detail: `${issuer.issuer}missing.json answered HTTP 404`,
    })
    expect(missing.code).toBe(1)
    const other = await doctor({ ISSUER: `${skewedUrl}/other/`, JWKS_URI: issuer.jwksUri })
    // Not needed with a jwksUri, so skipped rather than failed.
    expect(check(other.report, 'metadata')).toMatchObject({ status: 'skip' })
  })

  it('reads the metadata as the library does: within its byte cap, following no redirect', async () => {
    const huge = await doctor({ ISSUER: `${skewedUrl}/huge/` })
    expect(check(huge.report, 'metadata')).toMatchObject({
      status: 'fail',
      detail: `${skewedUrl}/huge/.well-known/openid-configuration answered more than 256 KiB`,
    })
    const moved = await doctor({ ISSUER: `${skewedUrl}/moved/` })
    expect(check(moved.report, 'metadata')).toMatchObject({
      status: 'fail',
      detail: `${skewedUrl}/moved/.well-known/openid-configuration answered a redirect (302), which is never followed`,
    })
  })

  it('gives a store whose client is still connecting a moment before failing it', async () => {
    const { code, report } = await doctor({
      ISSUER: issuer.issuer,
      JWKS_URI: issuer.jwksUri,
      WARMING: '1',
    })
    expect(check(report, 'cache store')).toMatchObject({
      status: 'pass',
      detail: 'an entry written, read back the same and deleted',
    })
    expect(code).toBe(0)
  })

  it('fails a cache store slower than cache.storeTimeoutMs, and still exits', async () => {
    const { code, report } = await doctor({
      ISSUER: issuer.issuer,
      JWKS_URI: issuer.jwksUri,
      SLOW: '1',
    })
    expect(code).toBe(1)
    expect(check(report, 'cache store').detail).toBe(
      'the store gave no answer within cache.storeTimeoutMs (200 ms), so every read is a miss',
    )
  })

  it('has help of its own, and wants a configuration', async () => {
    const help = await runInProcess(['doctor', '--help'])
    expect(help.stdout).toMatch(/^Usage: canonical-auth doctor \[options\]/)
    const bare = await runInProcess(['doctor'])
    expect(bare.code).toBe(2)
    expect(bare.stderr).toMatch(
      /doctor needs a configuration[\s\S]*Run canonical-auth doctor --help/,
    )
  })

  it('skips what is not configured', async () => {
    const run = await runCli([
      'doctor',
      '--issuer',
      issuer.issuer,
      '--jwks-uri',
      issuer.jwksUri,
      '--audience',
      'https://api.example.com',
    ])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/\n {2}skip {2}directory {6}not configured\n/)
    expect(run.stdout).toMatch(/\nthe deployment is ready \(4 pass, 0 fail, 3 skip\)\n$/)
  })
})

describe.runIf(redisAvailable())('canonical-auth doctor with the Redis store', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedisServer()
  })
  afterAll(async () => {
    redis?.resume()
    await redis?.stop()
  })

  const doctorWithRedis = () =>
    runCli(['doctor', '--config', 'test/cli/fixtures/redis.config.mjs', '--json'], {
      env: { ISSUER: issuer.issuer, JWKS_URI: issuer.jwksUri, REDIS_URL: redis.url },
    })

  it('round-trips a signed entry, and exits though the config left its client open', async () => {
    const run = await doctorWithRedis()
    expect(run.code, run.stdout + run.stderr).toBe(0)
    expect(check(JSON.parse(run.stdout) as JsonReport, 'cache store')).toMatchObject({
      status: 'pass',
      detail: 'an entry written, read back the same and deleted',
    })
  })

  it('fails the cache store line when Redis does not answer', async () => {
    redis.pause()
    try {
      const run = await doctorWithRedis()
      expect(run.code).toBe(1)
      expect(check(JSON.parse(run.stdout) as JsonReport, 'cache store')).toMatchObject({
        status: 'fail',
        fix: expect.stringMatching(/connection/),
      })
    } finally {
      redis.resume()
    }
  })
})
