import {
  type AuthConfig,
  AuthConfigError,
  type AuthError,
  type AuthErrorCode,
  createAuth,
  errorAnswer,
  isAuthError,
  protectedResourceMetadata,
} from 'canonical-auth'
import { metadataHandler as expressMetadata } from 'canonical-auth/express'
import canonicalAuth from 'canonical-auth/fastify'
import { metadataHandler as koaMetadata } from 'canonical-auth/koa'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { metadataUrlFor } from '../../src/core/http/resource-metadata.js'
import { useInstances, useTestStack } from '../stack.js'

const stack = useTestStack(({ directory }) => ({ directory: { baseUrl: directory.baseUrl } }))
const keep = useInstances()
const ADA = { sub: 'samlp|acme-waad|ada', email: 'ada@acme.com', email_verified: true }
const TENANT = { domain: 'tenant.eu.auth0.com', audience: 'https://api.example.com' }

/** The AuthError `promise` rejects with, after checking its code. */
async function rejectsWith(promise: Promise<unknown>, code: AuthErrorCode): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  )
  if (!isAuthError(error)) throw new Error(`expected an AuthError ${code}`)
  expect(error.code).toBe(code)
  return error
}

function configError(config: Partial<AuthConfig>): AuthConfigError {
  try {
    createAuth({ auth0: TENANT, ...config })
  } catch (error) {
    if (error instanceof AuthConfigError) return error
    throw error
  }
  throw new Error('the configuration was accepted')
}

describe('the metadata URL (RFC 9728 §3.1)', () => {
  it.each([
    ['https://api.example.com', 'https://api.example.com/.well-known/oauth-protected-resource'],
    ['https://api.example.com/', 'https://api.example.com/.well-known/oauth-protected-resource'],
    [
      'https://api.example.com/mcp',
      'https://api.example.com/.well-known/oauth-protected-resource/mcp',
    ],
    [
      'https://api.example.com/v1/mcp/',
      'https://api.example.com/.well-known/oauth-protected-resource/v1/mcp/',
    ],
    ['http://localhost:8080/mcp', 'http://localhost:8080/.well-known/oauth-protected-resource/mcp'],
  ])('%s → %s', (resource, url) => {
    expect(metadataUrlFor(resource)).toBe(url)
  })
})

describe('protectedResource configuration', () => {
  it('publishes the configured issuers exactly as configured, and only the fields given', () => {
    const auth = keep(
      createAuth({
        auth0: [
          TENANT,
          { issuer: 'https://login.acme.example.com/', audience: 'https://api.example.com' },
        ],
        protectedResource: { resource: 'https://api.example.com' },
      }),
    )
    const document = protectedResourceMetadata(auth)
    expect(document).toEqual({
      resource: 'https://api.example.com',
      authorization_servers: ['https://tenant.eu.auth0.com/', 'https://login.acme.example.com/'],
      bearer_methods_supported: ['header'],
      // DPoP is allowed by default: clients learn which proofs are accepted.
      dpop_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'],
    })
    expect(Object.isFrozen(document)).toBe(true)
    expect(Object.isFrozen(document.authorization_servers)).toBe(true)
  })

  it('publishes the DPoP algorithms, and whether DPoP is required, as configured', () => {
    const resource = { resource: 'https://api.example.com' }
    const document = (dpop: AuthConfig['dpop']) =>
      protectedResourceMetadata(
        keep(createAuth({ auth0: TENANT, protectedResource: resource, dpop })),
      )
    expect(document({ mode: 'required', algorithms: ['EdDSA'] })).toMatchObject({
      dpop_signing_alg_values_supported: ['EdDSA'],
      dpop_bound_access_tokens_required: true,
    })
    expect(document({ algorithms: ['ES256'] })).not.toHaveProperty(
      'dpop_bound_access_tokens_required',
    )
    const disabled = document({ mode: 'disabled' })
    expect(disabled).not.toHaveProperty('dpop_signing_alg_values_supported')
    expect(disabled).not.toHaveProperty('dpop_bound_access_tokens_required')
  })

  it('publishes the identifier as written, with or without the slash of a bare origin', () => {
    for (const resource of ['https://api.example.com', 'https://api.example.com/']) {
      const auth = keep(createAuth({ auth0: TENANT, protectedResource: { resource } }))
      expect(protectedResourceMetadata(auth).resource).toBe(resource)
    }
  })

  it('publishes scopes, a name and a documentation page when given', () => {
    const auth = keep(
      createAuth({
        auth0: TENANT,
        protectedResource: {
          resource: 'https://api.example.com/mcp',
          scopesSupported: ['read:reports', 'openid'],
          resourceName: 'Reports',
          resourceDocumentation: 'https://docs.example.com/reports',
        },
      }),
    )
    expect(protectedResourceMetadata(auth)).toMatchObject({
      scopes_supported: ['read:reports', 'openid'],
      resource_name: 'Reports',
      resource_documentation: 'https://docs.example.com/reports',
    })
  })

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['plain http to another host', { resource: 'http://api.example.com' }, /loopback/],
    ['a query', { resource: 'https://api.example.com/?tenant=1' }, /must not contain a query/],
    ['an empty query', { resource: 'https://api.example.com/mcp?' }, /must not contain a query/],
    ['a fragment', { resource: 'https://api.example.com/#x' }, /fragment/],
    ['an empty fragment', { resource: 'https://api.example.com/mcp#' }, /fragment/],
    [
      'an upper-case host and a default port',
      { resource: 'https://API.Example.com:443/mcp' },
      /write the resource identifier as https:\/\/api\.example\.com\/mcp/,
    ],
    [
      'dot segments',
      { resource: 'https://api.example.com/a/../mcp' },
      /as https:\/\/api\.example\.com\/mcp/,
    ],
    [
      'a path that is not percent-encoded',
      { resource: 'https://api.example.com/ü b' },
      /as https:\/\/api\.example\.com\/%C3%BC%20b/,
    ],
    ['credentials', { resource: 'https://u:p@api.example.com' }, /credentials/],
    ['not a URL', { resource: 'api.example.com' }, /absolute URL/],
    [
      'a scope with a space',
      { resource: 'https://api.example.com', scopesSupported: ['read reports'] },
      /OAuth scope/,
    ],
    [
      'an http documentation page',
      { resource: 'https://api.example.com', resourceDocumentation: 'http://docs.example.com' },
      /loopback/,
    ],
    ['a negative max age', { resource: 'https://api.example.com', maxAgeSeconds: -1 }, /.+/],
    ['an unknown key', { resource: 'https://api.example.com', scopes: ['a'] }, /scopes/],
  ])('refuses %s', (_name, protectedResource, message) => {
    const error = configError({ protectedResource } as unknown as Partial<AuthConfig>)
    expect(error.issues.some((issue) => issue.path.startsWith('protectedResource'))).toBe(true)
    expect(error.message).toMatch(message)
  })
})

describe('the challenge points to the metadata', () => {
  const resource = { resource: 'https://api.example.com/mcp' }
  const pointer =
    'resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp"'

  it('on every refusal of authenticate with a challenge, and errorAnswer sends it', async () => {
    const auth = stack.auth({ protectedResource: resource })
    const missing = await rejectsWith(auth.authenticate({ headers: {} }), 'token_missing')
    expect(missing.wwwAuthenticate).toBe(`Bearer ${pointer}`)
    expect(errorAnswer(missing).headers['www-authenticate']).toBe(`Bearer ${pointer}`)
    const forged = `${(await stack.issuer.sign()).slice(0, -8)}AAAAAAAA`
    const invalid = await rejectsWith(
      auth.authenticate({ headers: { authorization: `Bearer ${forged}` } }),
      'token_invalid',
    )
    expect(invalid.wwwAuthenticate).toMatch(/^Bearer error="invalid_token", error_description=/)
    expect(invalid.wwwAuthenticate?.endsWith(`, ${pointer}`)).toBe(true)
  })

  it('never on an answer without a challenge (400, 502)', async () => {
    const auth = stack.auth({ protectedResource: resource })
    const malformed = await rejectsWith(
      auth.authenticate({ headers: { authorization: 'Bearer a b' } }),
      'invalid_request',
    )
    expect(malformed.wwwAuthenticate).toBeUndefined()
    stack.directory.fail('down')
    const down = await rejectsWith(
      auth.authenticate({ headers: { authorization: `Bearer ${await stack.issuer.sign(ADA)}` } }),
      'directory_unavailable',
    )
    expect(down.wwwAuthenticate).toBeUndefined()
  })

  it('not without protectedResource', async () => {
    const error = await rejectsWith(stack.auth().authenticate({ headers: {} }), 'token_missing')
    expect(error.wwwAuthenticate).toBe('Bearer')
  })
})

describe('serving the document needs protectedResource', () => {
  it('refuses to set up a handler for an instance without it, in every adapter', async () => {
    const auth = stack.auth()
    expect(() => protectedResourceMetadata(auth)).toThrow(/needs protectedResource/)
    expect(() => expressMetadata(auth)).toThrow(/metadataHandler needs protectedResource/)
    expect(() => koaMetadata(auth)).toThrow(/metadataHandler needs protectedResource/)
    const app = Fastify()
    await expect(
      app.register(canonicalAuth, { auth, metadataPath: '/.well-known/oauth-protected-resource' }),
    ).rejects.toThrow(/metadataPath needs protectedResource/)
    await app.close()
  })
})
