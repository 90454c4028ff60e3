import { type Auth, createAuth, handleDiscoverRequest } from 'canonical-auth'
import {
  createDpopKeyPair,
  createDpopProof,
  createTestDirectory,
  createTestIssuer,
  type DpopKeyPair,
  type DpopProofOptions,
  type TestDirectory,
  type TestIssuer,
} from 'canonical-auth/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UPSTREAM_SECRET } from '../../src/testing/transport.js'
import { nowSeconds, UUID } from '../helpers.js'
import { harnesses, METADATA_PATH, type RunningApp } from './harnesses.js'
import { type SlowAnswer, slowPost } from './slow-client.js'

let issuer: TestIssuer
let deadIssuer: TestIssuer
let directory: TestDirectory
let main: Auth
let keysDown: Auth
let pointed: Auth
let strict: Auth
let dpopKey: DpopKeyPair
let otherKey: DpopKeyPair
const NONCE_SECRET = 'conformance-nonce-secret-of-32-characters'
const RESOURCE = 'https://api.example.com/api'
const METADATA_URL = 'https://api.example.com/.well-known/oauth-protected-resource/api'
const POINTER = `resource_metadata="${METADATA_URL.replace(/[./]/g, '\\$&')}"`
const tokens: Record<string, string> = {}
const SUB = 'samlp|acme-waad|ada'

beforeAll(async () => {
  issuer = await createTestIssuer()
  deadIssuer = await createTestIssuer()
  deadIssuer.fail('down')
  directory = await createTestDirectory()
  main = createAuth({
    auth0: issuer.auth0,
    directory: { baseUrl: directory.baseUrl, timeoutMs: 300, deadlineMs: 1_000, retries: 0 },
    discovery: { domains: { 'acme.com': { connection: 'acme-waad' } }, clientId: 'spa' },
  })
  keysDown = createAuth({ auth0: deadIssuer.auth0 })
  pointed = createAuth({
    auth0: issuer.auth0,
    directory: { baseUrl: directory.baseUrl, timeoutMs: 300, deadlineMs: 1_000, retries: 0 },
    protectedResource: {
      resource: RESOURCE,
      scopesSupported: ['read:reports'],
      resourceName: 'Reports API',
      maxAgeSeconds: 600,
    },
  })
  strict = createAuth({
    auth0: issuer.auth0,
    directory: { baseUrl: directory.baseUrl, timeoutMs: 300, deadlineMs: 1_000, retries: 0 },
    dpop: { mode: 'required', nonce: { secret: NONCE_SECRET } },
  })
  dpopKey = await createDpopKeyPair()
  otherKey = await createDpopKeyPair()
  const user = { sub: SUB, email: 'ada@acme.com', email_verified: true }
  tokens.plain = await issuer.sign(user)
  tokens.bound = await issuer.sign(user, { dpop: dpopKey.publicJwk })
  tokens.boundReports = await issuer.sign(
    { ...user, scope: 'openid read:reports' },
    { dpop: dpopKey.publicJwk },
  )
  tokens.reports = await issuer.sign({ ...user, scope: 'openid read:reports' })
  tokens.admin = await issuer.sign({ ...user, permissions: ['admin:users'] })
  const member = {
    ...user,
    scope: 'openid read:reports',
    org_id: 'org_1',
    'https://acme.example.com/roles': ['billing', 'admin', 'viewer'],
  }
  tokens.member = await issuer.sign(member)
  tokens.otherOrg = await issuer.sign({ ...member, org_id: 'org_2' })
  tokens.noOrg = await issuer.sign({ ...member, org_id: undefined })
  tokens.fewerRoles = await issuer.sign({ ...member, 'https://acme.example.com/roles': ['admin'] })
  tokens.suspended = await issuer.sign({ ...member, suspended: true })
  tokens.memberNoScope = await issuer.sign({ ...member, scope: 'openid' })
  tokens.expired = await issuer.sign({
    ...user,
    iat: nowSeconds() - 7200,
    exp: nowSeconds() - 3600,
  })
  tokens.forged = `${tokens.plain.slice(0, -16)}AAAAAAAAAAAAAAAA`
  tokens.other = await issuer.sign({
    sub: 'samlp|acme-waad|bob',
    email: 'bob@acme.com',
    email_verified: true,
  })
  tokens.newcomer = await issuer.sign({
    sub: 'samlp|acme-waad|newcomer',
    email: 'new@acme.com',
    email_verified: true,
  })
  tokens.deadTenant = await deadIssuer.sign(user)
  tokens.untrusted = await issuer.sign({
    sub: 'google-oauth2|1093',
    email: 'ada@acme.com',
    email_verified: false,
  })
})
afterAll(async () => {
  await main.close()
  await keysDown.close()
  await pointed.close()
  await strict.close()
  await issuer.close()
  await deadIssuer.close()
  await directory.close()
})

interface Case {
  readonly name: string
  readonly method?: 'GET' | 'POST'
  readonly path: string
  /** The request headers, made for the app at `origin` (a DPoP proof names its URL). */
  readonly headers?: (origin: string) => Record<string, string> | Promise<Record<string, string>>
  readonly body?: string
  /** Sent with `body`; default `application/json`, `null` for none. */
  readonly contentType?: string | null
  readonly status: number
  /** The answer closes the connection (it came before the body was read to its end). */
  readonly closes?: boolean
  readonly error?: string
  readonly challenge?: RegExp
  readonly retryAfter?: boolean
  /** The code the framework's own error handler was handed (status 418). */
  readonly delegated?: string
  readonly around?: () => () => void
  /** The exact JSON body of a success. */
  readonly json?: () => unknown
  /** The exact Cache-Control of the answer. */
  readonly cacheControl?: string
  /** The answer carries a fresh DPoP nonce (`DPoP-Nonce`). */
  readonly nonce?: boolean
}

const bearer = (name: string) => () => ({ authorization: `Bearer ${tokens[name]}` })

/** Every proof sent, for the leak check. */
const proofs: string[] = []

/**
 * The headers of a DPoP request: token `name` with the DPoP scheme, and a fresh proof for `GET
 * <origin><path>` by the key the token is bound to, changed by `proof`.
 */
const dpop =
  (
    name: string,
    path: string,
    proof: () => Partial<DpopProofOptions> = () => ({}),
    extra: Record<string, string> = {},
  ) =>
  async (origin: string) => {
    const accessToken = tokens[name] as string
    const made = await createDpopProof({
      ...dpopKey,
      method: 'GET',
      url: `${origin}${path}`,
      accessToken,
      ...proof(),
    })
    proofs.push(made)
    return { authorization: `DPoP ${accessToken}`, dpop: made, ...extra }
  }

/** The nonce `strict` hands out now: what a client learns from its first refusal. */
async function strictNonce(): Promise<string> {
  const proof = await createDpopProof({
    ...dpopKey,
    method: 'GET',
    url: 'https://nonce.example.com/',
    accessToken: tokens.bound as string,
  })
  const refusal = await strict
    .authenticate({
      headers: { authorization: `DPoP ${tokens.bound}`, dpop: proof },
      method: 'GET',
      url: 'https://nonce.example.com/',
    })
    .then(
      () => undefined,
      (error: { dpop?: { nonce?: string } }) => error,
    )
  return refusal?.dpop?.nonce as string
}

const DPOP_CHALLENGE = (error: string) =>
  new RegExp(
    `^Bearer, DPoP error="${error}", error_description="[^"]+", algs="ES256 ES384 EdDSA RS256 PS256"$`,
  )
const STRICT_CHALLENGE = (error: string) =>
  new RegExp(
    `^DPoP error="${error}", error_description="[^"]+", algs="ES256 ES384 EdDSA RS256 PS256"$`,
  )

const cases: readonly Case[] = [
  { name: 'a valid token', path: '/me', headers: bearer('plain'), status: 200 },
  // The same token again: its verification and its user are in memory, so the guard answers at
  // once, without a promise; the answers must not differ from the first ones.
  { name: 'a valid token, from memory', path: '/me', headers: bearer('plain'), status: 200 },
  {
    name: 'the X-User-Token header',
    path: '/me',
    headers: () => ({ 'x-user-token': tokens.plain as string }),
    status: 200,
  },
  { name: 'no token', path: '/me', status: 401, error: 'token_missing', challenge: /^Bearer$/ },
  {
    name: 'a malformed Authorization header',
    path: '/me',
    headers: () => ({ authorization: 'Bearer a b' }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'an expired token',
    path: '/me',
    headers: bearer('expired'),
    status: 401,
    error: 'token_expired',
    challenge: /^Bearer error="invalid_token"/,
  },
  {
    name: 'a forged token',
    path: '/me',
    headers: bearer('forged'),
    status: 401,
    error: 'token_invalid',
    challenge: /^Bearer error="invalid_token"/,
  },
  {
    name: 'a garbage token',
    path: '/me',
    headers: () => ({ authorization: 'Bearer not.a.jwt' }),
    status: 401,
    error: 'token_invalid',
    challenge:
      /^Bearer error="invalid_token", error_description="The access token is not a well-formed JWT/,
  },
  {
    name: 'an opaque token',
    path: '/me',
    headers: () => ({ authorization: 'Bearer opaque-token-requested-without-audience' }),
    status: 401,
    error: 'token_invalid',
    challenge: /^Bearer error="invalid_token", error_description="The access token is not a JWT/,
  },
  {
    // RFC 6750 ties invalid_token to 401 and insufficient_scope to 403: a 403 for an identity that
    // cannot be linked names neither.
    name: 'an identity that cannot be linked',
    path: '/me',
    headers: bearer('untrusted'),
    status: 403,
    error: 'identity_untrusted',
    challenge: /^Bearer$/,
  },
  {
    name: 'the Basic scheme',
    path: '/me',
    headers: () => ({ authorization: 'Basic YWRhOnNlY3JldA==' }),
    status: 401,
    error: 'token_missing',
    challenge: /^Bearer$/,
  },
  {
    name: 'two different tokens',
    path: '/me',
    headers: () => ({
      authorization: `Bearer ${tokens.plain}`,
      'x-user-token': tokens.other as string,
    }),
    status: 400,
    error: 'invalid_request',
  },
  { name: 'the required scope', path: '/reports', headers: bearer('reports'), status: 200 },
  {
    name: 'a missing scope',
    path: '/reports',
    headers: bearer('plain'),
    status: 403,
    error: 'insufficient_scope',
    challenge: /error="insufficient_scope".*scope="read:reports"/,
  },
  {
    name: 'a missing scope, from memory',
    path: '/reports',
    headers: bearer('plain'),
    status: 403,
    error: 'insufficient_scope',
    challenge: /error="insufficient_scope".*scope="read:reports"/,
  },
  {
    name: 'a delegated error, from memory',
    path: '/delegated-scope',
    headers: bearer('plain'),
    status: 418,
    delegated: 'insufficient_scope',
  },
  { name: 'one of the permissions', path: '/admin', headers: bearer('admin'), status: 200 },
  { name: 'the claim rules kept', path: '/org', headers: bearer('member'), status: 200 },
  {
    name: 'the protected resource metadata',
    path: METADATA_PATH,
    status: 200,
    cacheControl: 'public, max-age=600',
    json: () => ({
      resource: RESOURCE,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['read:reports'],
      dpop_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'],
      resource_name: 'Reports API',
    }),
  },
  // RFC 9728 §5.1: with metadata configured, every challenge points to it.
  {
    name: 'no token, on a protected resource',
    path: '/pointed',
    status: 401,
    error: 'token_missing',
    challenge: new RegExp(`^Bearer ${POINTER}$`),
  },
  {
    name: 'a forged token, on a protected resource',
    path: '/pointed',
    headers: bearer('forged'),
    status: 401,
    error: 'token_invalid',
    challenge: new RegExp(`^Bearer error="invalid_token", error_description="[^"]+", ${POINTER}$`),
  },
  {
    name: 'a missing scope, on a protected resource',
    path: '/pointed',
    headers: bearer('plain'),
    status: 403,
    error: 'insufficient_scope',
    challenge: new RegExp(
      `^Bearer error="insufficient_scope", error_description="[^"]+", scope="read:reports", ${POINTER}$`,
    ),
  },
  {
    name: 'the required scope, on a protected resource',
    path: '/pointed',
    headers: bearer('reports'),
    status: 200,
  },
  {
    name: 'the claim rules kept, from memory',
    path: '/org',
    headers: bearer('member'),
    status: 200,
  },
  // A broken rule answers as express-oauth2-jwt-bearer does: 401 invalid_token, the claim named,
  // neither value shown.
  {
    name: 'a claim of another value',
    path: '/org',
    headers: bearer('otherOrg'),
    status: 401,
    error: 'token_invalid',
    challenge: /^Bearer error="invalid_token", error_description="Unexpected 'org_id' value"$/,
  },
  {
    name: 'a missing claim',
    path: '/org',
    headers: bearer('noOrg'),
    status: 401,
    error: 'token_invalid',
    challenge: /^Bearer error="invalid_token", error_description="Missing 'org_id' claim"$/,
  },
  {
    name: 'a namespaced claim without every value',
    path: '/org',
    headers: bearer('fewerRoles'),
    status: 401,
    error: 'token_invalid',
    challenge:
      /^Bearer error="invalid_token", error_description="Unexpected 'https:\/\/acme.example.com\/roles' value"$/,
  },
  {
    name: 'a claim check that fails',
    path: '/org',
    headers: bearer('suspended'),
    status: 401,
    error: 'token_invalid',
    challenge: /^Bearer error="invalid_token", error_description="Unexpected claim value"$/,
  },
  {
    name: 'a claim check that fails, from memory',
    path: '/org',
    headers: bearer('suspended'),
    status: 401,
    error: 'token_invalid',
  },
  {
    name: 'the claim rules kept but a scope missing',
    path: '/org',
    headers: bearer('memberNoScope'),
    status: 403,
    error: 'insufficient_scope',
    challenge: /error="insufficient_scope".*scope="read:reports"/,
  },
  {
    name: 'a missing permission',
    path: '/admin',
    headers: bearer('plain'),
    status: 403,
    error: 'insufficient_scope',
    challenge: /error="insufficient_scope"/,
  },
  { name: 'optional auth without a token', path: '/optional', status: 200 },
  {
    name: 'optional auth with a valid token',
    path: '/optional',
    headers: bearer('plain'),
    status: 200,
  },
  {
    name: 'optional auth with a bad token',
    path: '/optional',
    headers: bearer('expired'),
    status: 401,
    error: 'token_expired',
  },
  {
    name: 'a delegated error',
    path: '/delegated',
    headers: bearer('expired'),
    status: 418,
    delegated: 'token_expired',
  },
  {
    name: 'the directory down',
    path: '/me',
    headers: bearer('newcomer'),
    status: 502,
    error: 'directory_unavailable',
    around: () => {
      directory.fail('5xx')
      return () => directory.fail(null)
    },
  },
  {
    name: 'the key set unreachable',
    path: '/keys-down',
    headers: bearer('deadTenant'),
    status: 503,
    error: 'jwks_unavailable',
    retryAfter: true,
  },
  {
    name: 'discovery of an SSO email',
    method: 'POST',
    path: '/public/auth/discover',
    body: '{"email":"Ada@Acme.com"}',
    status: 200,
  },
  {
    name: 'discovery of a password email',
    method: 'POST',
    path: '/public/auth/discover',
    body: '{"email":"bob@startup.io"}',
    status: 200,
  },
  {
    name: 'discovery over its rate limit',
    method: 'POST',
    path: '/public/auth/discover-limited',
    body: '{"email":"ada@acme.com"}',
    status: 429,
    error: 'rate_limited',
    retryAfter: true,
  },
  {
    name: 'discovery with a bad email',
    method: 'POST',
    path: '/public/auth/discover',
    body: '{"email":"a@acme.com@evil.com"}',
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'discovery with a body that is not JSON',
    method: 'POST',
    path: '/public/auth/discover',
    body: '{"email":',
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'discovery with an empty body',
    method: 'POST',
    path: '/public/auth/discover',
    body: '',
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'discovery with a 5 KiB body',
    method: 'POST',
    path: '/public/auth/discover',
    body: JSON.stringify({ email: 'ada@acme.com', pad: 'x'.repeat(5_000) }),
    status: 400,
    error: 'invalid_request',
    closes: true,
  },
  {
    name: 'discovery with a 200 KiB body',
    method: 'POST',
    path: '/public/auth/discover',
    body: JSON.stringify({ email: 'ada@acme.com', pad: 'x'.repeat(200_000) }),
    status: 400,
    error: 'invalid_request',
    closes: true,
  },
  {
    name: 'discovery with a JSON body in UTF-8',
    method: 'POST',
    path: '/public/auth/discover',
    body: '{"email":"ada@acme.com"}',
    contentType: 'application/json; charset=UTF-8',
    status: 200,
  },
  {
    name: 'discovery with a text/plain body',
    method: 'POST',
    path: '/public/auth/discover',
    body: '{"email":"ada@acme.com"}',
    contentType: 'text/plain',
    status: 400,
    error: 'invalid_request',
    closes: true,
  },
  {
    name: 'discovery with a form body',
    method: 'POST',
    path: '/public/auth/discover',
    body: 'email=ada%40acme.com',
    contentType: 'application/x-www-form-urlencoded',
    status: 400,
    error: 'invalid_request',
    closes: true,
  },
  {
    name: 'discovery with JSON in another charset',
    method: 'POST',
    path: '/public/auth/discover',
    body: '{"email":"ada@acme.com"}',
    contentType: 'application/json; charset=iso-8859-1',
    status: 400,
    error: 'invalid_request',
    closes: true,
  },
  {
    name: 'discovery with a malformed content type',
    method: 'POST',
    path: '/public/auth/discover',
    body: '{"email":"ada@acme.com"}',
    contentType: 'json',
    status: 400,
    error: 'invalid_request',
    closes: true,
  },
  {
    name: 'a DPoP-bound token with a fresh proof',
    path: '/me',
    headers: dpop('bound', '/me'),
    status: 200,
  },
  {
    name: 'a DPoP proof replayed',
    path: '/me',
    headers: async (origin) => {
      const headers = await dpop('bound', '/me')(origin)
      // The proof's first use, by the same instance: the request below is its replay.
      await main.authenticate({ headers, method: 'GET', url: `${origin}/me` })
      return headers
    },
    status: 401,
    error: 'invalid_dpop_proof',
    challenge: DPOP_CHALLENGE('invalid_dpop_proof'),
  },
  {
    name: 'a DPoP proof for another method',
    path: '/me',
    headers: dpop('bound', '/me', () => ({ method: 'POST' })),
    status: 401,
    error: 'invalid_dpop_proof',
    challenge: DPOP_CHALLENGE('invalid_dpop_proof'),
  },
  {
    name: 'a DPoP proof for another URL',
    path: '/me',
    headers: dpop('bound', '/admin'),
    status: 401,
    error: 'invalid_dpop_proof',
    challenge: DPOP_CHALLENGE('invalid_dpop_proof'),
  },
  {
    name: 'a DPoP proof with a stale iat',
    path: '/me',
    headers: dpop('bound', '/me', () => ({ claims: { iat: nowSeconds() - 600 } })),
    status: 401,
    error: 'invalid_dpop_proof',
    challenge: DPOP_CHALLENGE('invalid_dpop_proof'),
  },
  {
    name: 'a DPoP proof by another key than the bound one',
    path: '/me',
    headers: dpop('bound', '/me', () => ({ ...otherKey })),
    status: 401,
    error: 'invalid_dpop_proof',
    challenge: DPOP_CHALLENGE('invalid_dpop_proof'),
  },
  {
    name: 'a DPoP request without a proof',
    path: '/me',
    headers: () => ({ authorization: `DPoP ${tokens.bound}` }),
    status: 401,
    error: 'invalid_dpop_proof',
    challenge: DPOP_CHALLENGE('invalid_dpop_proof'),
  },
  {
    name: 'two DPoP proofs',
    path: '/me',
    headers: async (origin) => {
      const headers = await dpop('bound', '/me')(origin)
      return { ...headers, dpop: `${headers.dpop}, ${headers.dpop}` }
    },
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'a DPoP-bound token presented as Bearer',
    path: '/me',
    headers: bearer('bound'),
    status: 401,
    error: 'token_invalid',
    challenge: DPOP_CHALLENGE('invalid_token'),
  },
  {
    name: 'a DPoP proof for a forwarded host the server does not trust',
    path: '/me',
    headers: async (origin) =>
      dpop('bound', '/me', () => ({ url: 'https://api.example.com/me' }), {
        'x-forwarded-host': 'api.example.com',
        'x-forwarded-proto': 'https',
      })(origin),
    status: 401,
    error: 'invalid_dpop_proof',
    challenge: DPOP_CHALLENGE('invalid_dpop_proof'),
  },
  {
    name: 'a DPoP-bound token without the scope the route requires',
    path: '/reports',
    headers: dpop('bound', '/reports'),
    status: 403,
    error: 'insufficient_scope',
    challenge:
      /^Bearer, DPoP error="insufficient_scope", error_description="[^"]+", scope="read:reports", algs="[^"]+"$/,
  },
  {
    name: 'a DPoP-bound token with the scope the route requires',
    path: '/reports',
    headers: dpop('boundReports', '/reports'),
    status: 200,
  },
  {
    name: 'DPoP required: a Bearer token',
    path: '/strict',
    headers: bearer('plain'),
    status: 401,
    error: 'token_invalid',
    challenge: STRICT_CHALLENGE('invalid_token'),
  },
  {
    name: 'DPoP required: no token',
    path: '/strict',
    status: 401,
    error: 'token_missing',
    challenge: /^DPoP algs="ES256 ES384 EdDSA RS256 PS256"$/,
  },
  {
    name: 'DPoP required: a proof without the server nonce',
    path: '/strict',
    headers: dpop('bound', '/strict'),
    status: 401,
    error: 'use_dpop_nonce',
    challenge: STRICT_CHALLENGE('use_dpop_nonce'),
    nonce: true,
  },
  {
    name: 'DPoP required: a proof with the server nonce',
    path: '/strict',
    headers: async (origin) => {
      const nonce = await strictNonce()
      return dpop('bound', '/strict', () => ({ nonce }))(origin)
    },
    status: 200,
    nonce: true,
  },
  {
    name: 'discovery without a content type',
    method: 'POST',
    path: '/public/auth/discover',
    body: '{"email":"ada@acme.com"}',
    contentType: null,
    status: 400,
    error: 'invalid_request',
    closes: true,
  },
]

interface Observed {
  readonly status: number
  readonly headers: Record<string, string | null>
  readonly body: string
}

const COMPARED_HEADERS = [
  'content-type',
  'dpop-nonce',
  'www-authenticate',
  'retry-after',
  'cache-control',
  'connection',
  'access-control-allow-origin',
]

function bodyOf(testCase: Case): { headers: Record<string, string>; body?: string | Uint8Array } {
  if (testCase.body === undefined) return { headers: {} }
  const type = testCase.contentType === undefined ? 'application/json' : testCase.contentType
  // fetch labels a string body text/plain; bytes go out with no content type at all.
  if (type === null) return { headers: {}, body: new TextEncoder().encode(testCase.body) }
  return { headers: { 'content-type': type }, body: testCase.body }
}

async function perform(app: RunningApp, testCase: Case): Promise<Observed> {
  const undo = testCase.around?.()
  try {
    const sent = bodyOf(testCase)
    const response = await fetch(`${app.origin}${testCase.path}`, {
      method: testCase.method ?? 'GET',
      headers: { ...sent.headers, ...(await testCase.headers?.(app.origin)) },
      ...(sent.body === undefined ? {} : { body: sent.body }),
    })
    const headers: Record<string, string | null> = {}
    for (const name of COMPARED_HEADERS) headers[name] = response.headers.get(name)
    // A nonce is the one of its time step: compared by its shape, so a step that turns between
    // two frameworks' runs changes nothing.
    const nonce = headers['dpop-nonce']
    if (nonce !== null && /^[A-Za-z0-9_-]{43}$/.test(nonce as string))
      headers['dpop-nonce'] = 'a nonce'
    return { status: response.status, headers, body: await response.text() }
  } finally {
    undo?.()
  }
}

type Harness = (typeof harnesses)[number]
const observations = new Map<string, Promise<ReadonlyMap<string, Observed>>>()

/**
 * Every case against one framework, once, in the order of the list, on an app of its own: what
 * the per-framework checks, the byte-for-byte comparison and the leak check all read, whichever
 * of them runs first (the suite passes in any order).
 */
function observe(harness: Harness): Promise<ReadonlyMap<string, Observed>> {
  let found = observations.get(harness.name)
  if (found === undefined) {
    found = (async () => {
      // Each framework meets the unreachable key set afresh: a shared instance would be part-way
      // through its backoff when the next framework asks, and answer a smaller Retry-After.
      const ownKeysDown = createAuth({ auth0: deadIssuer.auth0 })
      const app = await harness.start({ main, keysDown: ownKeysDown, pointed, strict })
      try {
        const results = new Map<string, Observed>()
        for (const testCase of cases) results.set(testCase.name, await perform(app, testCase))
        return results
      } finally {
        await app.close()
        await ownKeysDown.close()
      }
    })()
    observations.set(harness.name, found)
  }
  return found
}

describe.each(harnesses)('$name', (harness) => {
  let app: RunningApp
  let results: ReadonlyMap<string, Observed>
  beforeAll(async () => {
    results = await observe(harness)
    app = await harness.start({ main, keysDown, pointed, strict })
  })
  afterAll(async () => {
    await app.close()
  })

  it.each(cases)('answers $name with $status', (testCase) => {
    const result = results.get(testCase.name) as Observed
    expect(result.status).toBe(testCase.status)
    const body = JSON.parse(result.body) as Record<string, unknown>
    if (testCase.error !== undefined) {
      expect(body).toEqual({ error: testCase.error, error_description: expect.any(String) })
      expect(result.headers['content-type']).toBe('application/json; charset=utf-8')
      expect(result.headers['cache-control']).toBe('no-store')
    }
    if (testCase.challenge !== undefined)
      expect(result.headers['www-authenticate']).toMatch(testCase.challenge)
    if (testCase.status === 502 || testCase.status === 503 || testCase.status === 400) {
      expect(result.headers['www-authenticate']).toBeNull()
    }
    if (testCase.retryAfter) expect(Number(result.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect(result.headers.connection).toBe(testCase.closes ? 'close' : 'keep-alive')
    if (testCase.cacheControl !== undefined) {
      expect(result.headers['cache-control']).toBe(testCase.cacheControl)
    }
    if (testCase.json !== undefined) {
      expect(body).toEqual(testCase.json())
      expect(result.headers['content-type']).toBe('application/json; charset=utf-8')
      expect(result.headers['access-control-allow-origin']).toBe('*')
    } else if (testCase.path !== '/public/auth/discover' && testCase.status === 200) {
      const userId = body.userId
      if (testCase.path === '/optional' && testCase.headers === undefined) expect(userId).toBeNull()
      else expect(userId).toMatch(UUID)
      expect(userId).not.toBe(SUB)
    }
    if (testCase.status === 418) expect(body).toEqual({ delegated: testCase.delegated })
    expect(result.headers['dpop-nonce']).toBe(testCase.nonce ? 'a nonce' : null)
  })

  it('puts the same canonical user on the request as the directory holds', async () => {
    const result = await perform(app, cases[0] as Case)
    expect(JSON.parse(result.body)).toEqual({ userId: directory.users.get('ada@acme.com')?.id })
  })

  it('leaks no token, sub, email, stack or upstream body in any error', () => {
    for (const [name, result] of results) {
      if (result.status < 400) continue
      const text = `${result.body} ${JSON.stringify(result.headers)}`
      for (const token of Object.values(tokens)) {
        for (const segment of token.split('.'))
          if (segment.length > 10) expect(text, name).not.toContain(segment)
      }
      for (const proof of proofs) {
        for (const segment of proof.split('.')) expect(text, name).not.toContain(segment)
      }
      expect(text, name).not.toContain(dpopKey.publicJwk.x as string)
      expect(text, name).not.toContain(SUB)
      expect(text, name).not.toContain('ada@acme.com')
      expect(text, name).not.toContain('new@acme.com')
      expect(text, name).not.toMatch(/\n\s+at /)
      expect(text, name).not.toContain(UPSTREAM_SECRET)
      expect(text, name).not.toContain('hunter2')
      // A broken claim rule names the claim, never the expected or the presented value.
      for (const value of ['org_1', 'org_2', 'billing', 'viewer']) {
        expect(text, name).not.toContain(value)
      }
    }
  })
})

describe('every framework answers byte for byte the same', () => {
  const all = new Map<string, ReadonlyMap<string, Observed>>()
  beforeAll(async () => {
    for (const harness of harnesses) all.set(harness.name, await observe(harness))
  })

  it.each(cases)('$name', ({ name, status }) => {
    const [first, ...others] = harnesses.map((harness) => ({
      harness: harness.name,
      result: all.get(harness.name)?.get(name),
    }))
    expect(first?.result, `${first?.harness} ran`).toMatchObject({ status })
    for (const other of others)
      expect({ [other.harness]: other.result }).toEqual({ [other.harness]: first?.result })
  })
})

describe('slow and stalled discover bodies, the same in every framework', () => {
  const apps = new Map<string, RunningApp>()
  beforeAll(async () => {
    for (const harness of harnesses)
      apps.set(harness.name, await harness.start({ main, keysDown, pointed, strict }))
  })
  afterAll(async () => {
    for (const app of apps.values()) await app.close()
  })

  const json = { 'content-type': 'application/json' }
  const shown = ({ status, headers, body }: SlowAnswer) => ({
    status,
    headers: Object.fromEntries(COMPARED_HEADERS.map((name) => [name, headers[name] ?? null])),
    body,
  })

  /** Sends the same slow request to every framework at once; all must answer the same bytes. */
  async function everyFramework(options: Parameters<typeof slowPost>[2]): Promise<SlowAnswer[]> {
    const answers = await Promise.all(
      [...apps].map(async ([name, app]) => ({
        name,
        answer: await slowPost(app.origin, '/public/auth/discover', options),
      })),
    )
    const [first, ...others] = answers
    for (const other of others)
      expect({ [other.name]: shown(other.answer) }).toEqual({
        [other.name]: shown(first?.answer as SlowAnswer),
      })
    return answers.map(({ answer }) => answer)
  }

  function expectClosingRefusal(answer: SlowAnswer, bodyLength: number): void {
    expect(answer.status).toBe(400)
    expect(JSON.parse(answer.body)).toEqual({
      error: 'invalid_request',
      error_description: expect.any(String),
    })
    expect(answer.headers.connection).toBe('close')
    expect(answer.sentBeforeAnswer).toBeLessThan(bodyLength)
  }

  it('answers a body sent a byte at a time with 400 at the body deadline, and closes the connection', async () => {
    // 200 bytes at one byte every 250 ms would take 50 s; the deadline is 5 s.
    const body = '{"email":"ada@acme.com"}'.padEnd(200, ' ')
    const answers = await everyFramework({
      headers: json,
      body,
      chunkBytes: 1,
      everyMs: 250,
      until: 'close',
      withinMs: 20_000,
    })
    for (const answer of answers) expectClosingRefusal(answer, body.length)
  }, 30_000)

  it('answers a body that stalls past 4 KiB as too large, without waiting for the rest', async () => {
    const body = JSON.stringify({ email: 'ada@acme.com', pad: 'x'.repeat(60_000) })
    const tooLarge = await handleDiscoverRequest(main, { body })
    const answers = await everyFramework({
      headers: json,
      body,
      atOnce: 5_000,
      chunkBytes: 0,
      everyMs: 0,
      until: 'close',
      withinMs: 20_000,
    })
    for (const answer of answers) {
      expectClosingRefusal(answer, body.length)
      expect(JSON.parse(answer.body)).toEqual(tooLarge.body)
    }
  }, 30_000)

  it('refuses a slow body that is not JSON without reading it, and closes the connection', async () => {
    const body = '{"email":"ada@acme.com"}'.padEnd(200, ' ')
    const answers = await everyFramework({
      headers: { 'content-type': 'text/plain' },
      body,
      chunkBytes: 1,
      everyMs: 250,
      until: 'close',
      withinMs: 20_000,
    })
    for (const answer of answers) expectClosingRefusal(answer, body.length)
  }, 30_000)

  it('answers a body that arrives in pieces within the deadline, and keeps the connection', async () => {
    const answers = await everyFramework({
      headers: json,
      body: '{"email":"ada@acme.com"}',
      chunkBytes: 8,
      everyMs: 100,
      until: 'answer',
      withinMs: 20_000,
    })
    for (const answer of answers) {
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.body)).toMatchObject({ method: 'sso', connection: 'acme-waad' })
      expect(answer.headers.connection).toBe('keep-alive')
    }
  }, 30_000)
})
