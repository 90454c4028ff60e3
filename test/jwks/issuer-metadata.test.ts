import { type AuthEvent, createAuth } from 'canonical-auth'
import { createTestIssuer, type TestIssuer } from 'canonical-auth/testing'
import { HttpResponse, http } from 'msw'
import { describe, expect, it, onTestFinished } from 'vitest'
import { resolveConfig } from '../../src/core/config/config.js'
import { metadataUrls } from '../../src/core/jwks/issuer-metadata.js'
import { advance, rejectsWith } from '../helpers.js'
import { server } from '../msw.js'
import { useInstances, useTestStack } from '../stack.js'

// The verification cache is off: these tests are about where the keys come from.
const stack = useTestStack(() => ({ cache: { tokens: false } }), { fakeDate: true })
const keep = useInstances()

/** An instance that knows the test issuer by its issuer URL and audience alone. */
function byIssuerOnly(extra: Record<string, unknown> = {}) {
  const events: AuthEvent[] = []
  const auth = stack.auth({
    auth0: { issuer: stack.issuer.issuer, audience: stack.issuer.audience },
    onEvent: (event: AuthEvent) => {
      events.push(event)
    },
    ...extra,
  })
  return { auth, events }
}

describe('an issuer given alone: its key set URL from its metadata', () => {
  it('reads the OpenID configuration once, then the key set it names', async () => {
    const { auth, events } = byIssuerOnly()
    for (let i = 0; i < 5; i++) {
      const token = await stack.issuer.sign({ sub: `auth0|${i}` })
      expect((await auth.verifyAuth0Token(token)).subject).toBe(`auth0|${i}`)
    }
    expect(stack.issuer.calls.openidConfiguration).toBe(1)
    expect(stack.issuer.calls.jwks).toBe(1)
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'jwks.fetch', jwksUri: stack.issuer.jwksUri, outcome: 'ok' }),
    )
  })

  it('keeps the document like a key set: refreshed past its max age, with the key set', async () => {
    const { auth } = byIssuerOnly({ jwks: { maxAgeMs: 60_000 } })
    await auth.verifyAuth0Token(await stack.issuer.sign())
    advance(61_000)
    await auth.verifyAuth0Token(await stack.issuer.sign())
    // Stale: served while one background refresh reads both again.
    await expect.poll(() => stack.issuer.calls.jwks).toBe(2)
    expect(stack.issuer.calls.openidConfiguration).toBe(2)
  })

  it('with no kept copy, a provider that is down is jwks_unavailable (503), then backs off', async () => {
    const { auth } = byIssuerOnly()
    stack.issuer.fail('down')
    const token = await stack.issuer.sign()
    await rejectsWith(auth.verifyAuth0Token(token), 'jwks_unavailable')
    await rejectsWith(auth.verifyAuth0Token(token), 'jwks_unavailable')
    expect(stack.issuer.calls.openidConfiguration).toBe(1)
    expect(stack.issuer.calls.jwks).toBe(0)
  })

  it('serves the kept document and keys through an outage for staleIfErrorMs', async () => {
    const { auth } = byIssuerOnly({ jwks: { maxAgeMs: 60_000, staleIfErrorMs: 120_000 } })
    await auth.verifyAuth0Token(await stack.issuer.sign())
    stack.issuer.fail('down')
    advance(90_000)
    expect((await auth.verifyAuth0Token(await stack.issuer.sign())).issuer).toBe(
      stack.issuer.issuer,
    )
    advance(100_000)
    await rejectsWith(auth.verifyAuth0Token(await stack.issuer.sign()), 'jwks_unavailable')
  })

  it('takes a rotated key from the key set the document names', async () => {
    const { auth } = byIssuerOnly({ jwks: { cooldownMs: 1_000 } })
    await auth.verifyAuth0Token(await stack.issuer.sign())
    await stack.issuer.rotateKey()
    advance(2_000)
    expect((await auth.verifyAuth0Token(await stack.issuer.sign())).issuer).toBe(
      stack.issuer.issuer,
    )
    expect(stack.issuer.calls.jwks).toBe(2)
  })
})

describe('which tenants are discovered', () => {
  const tenantOf = (tenant: Record<string, unknown>) =>
    resolveConfig({ auth0: { audience: 'https://api.example.com', ...tenant } }).tenants[0]

  it('an Auth0 tenant (a domain, or an issuer on auth0.com) keeps its known key set URL', () => {
    expect(tenantOf({ domain: 'tenant.eu.auth0.com' })?.jwksUri).toBe(
      'https://tenant.eu.auth0.com/.well-known/jwks.json',
    )
    expect(tenantOf({ domain: 'login.acme.example.com' })?.jwksUri).toBe(
      'https://login.acme.example.com/.well-known/jwks.json',
    )
    expect(tenantOf({ issuer: 'https://tenant.us.auth0.com/' })?.jwksUri).toBe(
      'https://tenant.us.auth0.com/.well-known/jwks.json',
    )
  })

  it('any other issuer alone is discovered; a configured jwksUri is never second-guessed', () => {
    expect(tenantOf({ issuer: 'https://id.example.com/realms/acme' })?.jwksUri).toBeUndefined()
    expect(
      tenantOf({ issuer: 'https://id.example.com/', jwksUri: 'https://keys.example.com/jwks' })
        ?.jwksUri,
    ).toBe('https://keys.example.com/jwks')
  })

  it('builds both well-known URLs, the RFC 8414 one with the path after it', () => {
    expect(metadataUrls('https://id.example.com/realms/acme')).toEqual([
      'https://id.example.com/realms/acme/.well-known/openid-configuration',
      'https://id.example.com/.well-known/oauth-authorization-server/realms/acme',
    ])
    expect(metadataUrls('https://id.example.com/realms/acme/')).toEqual([
      'https://id.example.com/realms/acme/.well-known/openid-configuration',
      'https://id.example.com/.well-known/oauth-authorization-server/realms/acme',
    ])
    expect(metadataUrls('https://id.example.com/')).toEqual([
      'https://id.example.com/.well-known/openid-configuration',
      'https://id.example.com/.well-known/oauth-authorization-server',
    ])
  })
})

// A provider at https://id.example.test/realms/acme whose answers each test chooses, with the keys
// of a test issuer (listening nowhere: only these handlers answer).
const ISSUER = 'https://id.example.test/realms/acme'
const OPENID = 'https://id.example.test/realms/acme/.well-known/openid-configuration'
const OAUTH = 'https://id.example.test/.well-known/oauth-authorization-server/realms/acme'
const JWKS = 'https://keys.example.test/acme/jwks'

async function provider(answers: { openid?: () => Response; oauth?: () => Response }) {
  const keys: TestIssuer = await createTestIssuer({ listen: false })
  onTestFinished(() => keys.close())
  const asked = { openid: 0, oauth: 0, jwks: 0 }
  const missing = () => HttpResponse.json({ error: 'not_found' }, { status: 404 })
  server.use(
    http.get(OPENID, () => {
      asked.openid += 1
      return (answers.openid ?? missing)()
    }),
    http.get(OAUTH, () => {
      asked.oauth += 1
      return (answers.oauth ?? missing)()
    }),
    http.get(JWKS, () => {
      asked.jwks += 1
      return HttpResponse.json(keys.jwks)
    }),
  )
  const auth = keep(
    createAuth({ auth0: { issuer: ISSUER, audience: keys.audience }, cache: { tokens: false } }),
  )
  const sign = () => keys.sign({ iss: ISSUER })
  return { auth, sign, asked }
}

const document = (fields: Record<string, unknown>) => () =>
  HttpResponse.json({ issuer: ISSUER, jwks_uri: JWKS, ...fields })

describe('the metadata document', () => {
  it('falls back to the RFC 8414 location when the OpenID one is not there', async () => {
    const { auth, sign, asked } = await provider({ oauth: document({}) })
    expect((await auth.verifyAuth0Token(await sign())).issuer).toBe(ISSUER)
    expect(asked).toEqual({ openid: 1, oauth: 1, jwks: 1 })
  })

  it.each([503, 500, 429, 401, 403])(
    'does not fall back on a %i (only a 404, 405 or 410 says "not here")',
    async (status) => {
      const { auth, sign, asked } = await provider({
        openid: () => new HttpResponse(null, { status }),
        oauth: document({}),
      })
      await rejectsWith(auth.verifyAuth0Token(await sign()), 'jwks_unavailable')
      expect(asked.oauth).toBe(0)
    },
  )

  it.each<[string, Record<string, unknown>]>([
    ['names another issuer', { issuer: 'https://evil.example.test/realms/acme' }],
    ['names the issuer with another trailing slash', { issuer: `${ISSUER}/` }],
    ['names no key set', { jwks_uri: undefined }],
    ['names a key set over plain http', { jwks_uri: 'http://keys.example.test/acme/jwks' }],
    ['names a key set URL with credentials', { jwks_uri: 'https://u:p@keys.example.test/jwks' }],
    ['names a key set that is not a URL', { jwks_uri: '/acme/jwks' }],
  ])('is refused when it %s: jwks_unavailable, no key set fetched', async (_name, fields) => {
    const { auth, sign, asked } = await provider({ openid: document(fields) })
    await rejectsWith(auth.verifyAuth0Token(await sign()), 'jwks_unavailable')
    expect(asked.jwks).toBe(0)
    expect(asked.oauth).toBe(0)
  })

  it('is refused when it is not a JSON object, or too large', async () => {
    for (const body of [() => HttpResponse.json([ISSUER]), () => HttpResponse.text('<html>')]) {
      const { auth, sign, asked } = await provider({ openid: body })
      await rejectsWith(auth.verifyAuth0Token(await sign()), 'jwks_unavailable')
      expect(asked.jwks).toBe(0)
    }
    const huge = () =>
      HttpResponse.json({ issuer: ISSUER, jwks_uri: JWKS, pad: 'x'.repeat(300_000) })
    const { auth, sign, asked } = await provider({ openid: huge })
    await rejectsWith(auth.verifyAuth0Token(await sign()), 'jwks_unavailable')
    expect(asked.jwks).toBe(0)
  })

  it('never puts the document or the provider answer in an error', async () => {
    const { auth, sign } = await provider({
      openid: document({ issuer: 'https://evil.example.test/secret-tenant-name' }),
    })
    const error = await auth.verifyAuth0Token(await sign()).catch((e: unknown) => e)
    const text = `${String(error)} ${JSON.stringify(error)} ${String((error as Error).cause)}`
    expect(text).not.toContain('secret-tenant-name')
    expect(text).not.toContain('keys.example.test')
  })
})
