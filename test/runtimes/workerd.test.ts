import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, stopWorkerd } from '../../examples/worker/run.js'

// The core on Cloudflare's runtime (workerd, from npm): a Worker keeping one shared `Auth` across
// requests, its key set served by another worker. workerd ends a request's unfinished work with
// the request, so a key set refresh started in the background by one request is dropped unless it
// was handed to waitUntil; the instance must keep verifying either way. Run with `nodejs_compat`
// (node:crypto there: the fast signature path) and without it (an older compatibility date and no
// flag: jose alone).

const root = join(import.meta.dirname, '..', '..')
const dir = mkdtempSync(join(root, 'test', '.workerd-'))
const UUID = '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f'
const KID = 'workerd-key'
let workerd: ChildProcess | undefined
const origins: Record<'compat' | 'plain', string> = { compat: '', plain: '' }
let token = ''

async function bundle(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [join(import.meta.dirname, 'workerd', entry)],
    outfile: join(dir, outfile),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    logLevel: 'silent',
  })
}

function workerConfig(ports: { compat: number; plain: number }): string {
  const auth = (name: string, date: string, flags: string, upstream: string) => `
const ${name} :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "auth-worker.js")],
  compatibilityDate = "${date}",
  compatibilityFlags = [${flags}],
  globalOutbound = "${upstream}",
);`
  const upstream = (name: string) => `
const ${name} :Workerd.Worker = (
  modules = [(name = "upstream.js", esModule = embed "upstream-worker.js")],
  compatibilityDate = "2024-09-01",
  bindings = [(name = "JWKS", json = embed "jwks.json")],
);`
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "compat", worker = .compat),
    (name = "plain", worker = .plain),
    (name = "upstream-compat", worker = .upstreamCompat),
    (name = "upstream-plain", worker = .upstreamPlain),
  ],
  sockets = [
    (name = "compat", address = "127.0.0.1:${ports.compat}", http = (), service = "compat"),
    (name = "plain", address = "127.0.0.1:${ports.plain}", http = (), service = "plain"),
  ],
);
${auth('compat', '2026-11-01', '"nodejs_compat"', 'upstream-compat')}
${auth('plain', '2024-09-01', '', 'upstream-plain')}
${upstream('upstreamCompat')}
${upstream('upstreamPlain')}
`
}

async function until(ready: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (await ready().catch(() => false)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${what} did not happen`)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  const jwk = { ...(await exportJWK(publicKey)), kid: KID, alg: 'RS256', use: 'sig' }
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }))
  token = await new SignJWT({ 'https://example.test/uid': UUID })
    .setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' })
    .setIssuer('http://127.0.0.1/')
    .setAudience('https://api.test')
    .setSubject('samlp|acme-waad|ada')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey)
  await bundle('auth-worker.ts', 'auth-worker.js')
  await bundle('upstream-worker.ts', 'upstream-worker.js')
  const ports = { compat: await freePort(), plain: await freePort() }
  writeFileSync(join(dir, 'config.capnp'), workerConfig(ports))
  origins.compat = `http://127.0.0.1:${ports.compat}`
  origins.plain = `http://127.0.0.1:${ports.plain}`
  workerd = spawn(join(root, 'node_modules', '.bin', 'workerd'), ['serve', 'config.capnp'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  workerd.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  try {
    for (const origin of Object.values(origins)) {
      await until(async () => (await fetch(`${origin}/stats`)).ok, `workerd serving ${origin}`)
    }
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${stderr}`)
  }
}, 60_000)

afterAll(async () => {
  if (workerd !== undefined) await stopWorkerd(workerd)
  rmSync(dir, { recursive: true, force: true })
})

async function call(origin: string, path: string) {
  const response = await fetch(`${origin}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

async function jwksFetches(origin: string): Promise<number> {
  return ((await (await fetch(`${origin}/stats`)).json()) as { jwks: number }).jwks
}

describe.each([
  ['with nodejs_compat', 'compat', true],
  ['without Node compatibility', 'plain', false],
] as const)('workerd, %s', (_name, variant, nodeCompat) => {
  const origin = () => origins[variant]

  it('verifies with one shared Auth across requests, node:crypto where it exists', async () => {
    const first = await call(origin(), '/with-wait-until')
    expect(first).toEqual({ status: 200, body: { userId: UUID, nodeCrypto: nodeCompat } })
    await expect(call(origin(), '/with-wait-until')).resolves.toMatchObject({ status: 200 })
  })

  it('finishes a background refresh handed to waitUntil after the request that started it', async () => {
    const before = await jwksFetches(origin())
    // Past the key set's max age: served from the kept copy, refreshed in the background.
    await sleep(1_100)
    await expect(call(origin(), '/with-wait-until')).resolves.toMatchObject({ status: 200 })
    await until(async () => (await jwksFetches(origin())) === before + 1, 'the refresh')
    await expect(call(origin(), '/with-wait-until')).resolves.toMatchObject({ status: 200 })
  })

  it('keeps verifying after a background refresh dropped with its request', async () => {
    await expect(call(origin(), '/without-wait-until')).resolves.toMatchObject({ status: 200 })
    const before = await jwksFetches(origin())
    await sleep(1_100)
    // Served from the kept copy; the refresh it starts outlives the request, which workerd ends.
    await expect(call(origin(), '/without-wait-until')).resolves.toMatchObject({ status: 200 })
    // Past the copy's max age and its stale window: keys are needed now, and the dropped refresh
    // is past its deadline (its 500 ms timeout and a second's grace), so a new one is made.
    await sleep(1_600)
    await expect(call(origin(), '/without-wait-until')).resolves.toEqual({
      status: 200,
      body: { userId: UUID, nodeCrypto: nodeCompat },
    })
    expect(await jwksFetches(origin())).toBeGreaterThanOrEqual(before + 2)
  })
})
