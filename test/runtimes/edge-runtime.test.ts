import { EdgeVM } from '@edge-runtime/vm'
import type { AuthConfig } from 'canonical-auth'
import {
  createTestDirectory,
  createTestIssuer,
  type TestDirectory,
  type TestIssuer,
} from 'canonical-auth/testing'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nowSeconds, ssoToken, UUID } from '../helpers.js'

// The core on Vercel's Edge runtime (@edge-runtime/vm from npm: the web platform's globals, no
// Node ones): a function bundled as for the edge, holding one shared `Auth` behind the fetch
// adapter, verifying against a loopback issuer and resolving through a loopback directory.

let issuer: TestIssuer
let directory: TestDirectory
let vm: EdgeVM

/** A response from the function, read outside the VM. */
interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: unknown
}

async function call(authorization?: string): Promise<Answer> {
  const headers = authorization === undefined ? {} : { authorization }
  const response = (await vm.evaluate(
    `handler(new Request('https://edge.example.com/profile', { headers: ${JSON.stringify(headers)} }))`,
  )) as Response
  return { status: response.status, headers: response.headers, body: await response.json() }
}

beforeAll(async () => {
  issuer = await createTestIssuer()
  directory = await createTestDirectory()
  const bundle = await build({
    entryPoints: [new URL('./edge/handler.ts', import.meta.url).pathname],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    conditions: ['edge-light', 'worker', 'browser'],
    target: 'es2022',
    logLevel: 'silent',
  })
  vm = new EdgeVM()
  const config: AuthConfig = {
    auth0: issuer.auth0,
    directory: { baseUrl: directory.baseUrl },
    trust: { trustedConnections: { 'acme-waad': ['acme.com'] } },
  }
  vm.context.CONFIG = JSON.parse(JSON.stringify(config))
  vm.evaluate(bundle.outputFiles[0]?.text ?? '')
})

afterAll(async () => {
  await issuer?.close()
  await directory?.close()
})

describe('on the Edge runtime', () => {
  it('has no Node globals: signatures are checked by jose on WebCrypto', async () => {
    expect(vm.evaluate('typeof process')).toBe('undefined')
    expect(vm.evaluate('typeof Buffer')).toBe('undefined')
  })

  it('resolves a first-time SSO user through the directory, then from the cache', async () => {
    const token = await ssoToken(issuer, 'grace')
    const first = await call(`Bearer ${token}`)
    expect(first).toMatchObject({
      status: 200,
      body: { subject: 'samlp|acme-waad|grace', nodeCrypto: false },
    })
    const { userId } = first.body as { userId: string }
    expect(userId).toMatch(UUID)
    expect(directory.calls.ensure).toBe(1)
    await expect(call(`Bearer ${token}`)).resolves.toMatchObject({ status: 200, body: { userId } })
    expect(directory.calls.ensure).toBe(1)
  })

  it('answers a missing, an expired and a forged token as every adapter does', async () => {
    const missing = await call()
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer\b/)
    expect(missing.body).toMatchObject({ error: 'token_missing' })

    const expired = await ssoToken(issuer, { exp: nowSeconds() - 60, iat: nowSeconds() - 120 })
    await expect(call(`Bearer ${expired}`)).resolves.toMatchObject({
      status: 401,
      body: { error: 'token_expired' },
    })
    const [header, payload] = (await ssoToken(issuer)).split('.')
    const other = (await ssoToken(issuer, 'mallory')).split('.')[2]
    await expect(call(`Bearer ${header}.${payload}.${other}`)).resolves.toMatchObject({
      status: 401,
      body: { error: 'token_invalid' },
    })
  })
})
