/**
 * `npm run demo`: the canonical-auth story on this machine, with nothing to install.
 *
 * A local Auth0 stand-in (the testing kit on loopback) issues real RS256 access tokens and an
 * in-memory user directory speaks the wire contract over HTTP. Two services, agentic-backend and
 * platform-api, each embed canonical-auth: a first-time SSO user gets one canonical UUID whichever
 * service they hit first, forgeries are refused, and outages fail closed.
 * Exits 0 only if every step behaved as printed.
 */
import { createHmac } from 'node:crypto'
import { createAuth, handleDiscoverRequest, isAuthError } from 'canonical-auth'
import { createTestDirectory, createTestIssuer } from 'canonical-auth/testing'
import { generateKeyPair, SignJWT } from 'jose'

const color = process.stdout.isTTY && !process.env.NO_COLOR
const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text)
let failures = 0
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

function pass(text: string): void {
  console.log(`   ${paint(32, '✓')} ${text}`)
}
function fail(text: string): void {
  failures += 1
  console.log(`   ${paint(31, '✗')} ${text}`)
}
function heading(text: string): void {
  console.log(`\n${paint(1, text)}`)
}

/** Runs `attempt` and checks it is refused with `code`. */
async function expectRefused(
  label: string,
  code: string,
  attempt: () => Promise<unknown>,
): Promise<void> {
  try {
    await attempt()
    fail(`${label}: accepted, expected ${code}`)
  } catch (error) {
    if (isAuthError(error) && error.code === code) {
      const retry =
        error.retryAfterSeconds === undefined ? '' : `, Retry-After: ${error.retryAfterSeconds}`
      pass(`${label} → ${error.code} (${error.status}${retry})`)
    } else {
      fail(`${label}: ${isAuthError(error) ? error.code : String(error)}, expected ${code}`)
    }
  }
}

const issuer = await createTestIssuer({ audience: 'https://platform-api.example' })
const directory = await createTestDirectory()
const serviceConfig = {
  auth0: issuer.auth0,
  directory: { baseUrl: directory.baseUrl, timeoutMs: 500, deadlineMs: 1_500, retries: 1 },
  trust: { trustedConnections: ['acme-waad'] },
  jwks: { cacheMaxAgeMs: 1_000 },
  discovery: {
    domains: { 'acme.com': { connection: 'acme-waad' } },
    clientId: 'demo-spa',
    redirectUri: 'http://localhost:3000/callback',
  },
}
const created: string[] = []
// Each service embeds its own instance: no central /validate call in the path.
const agenticBackend = createAuth({
  ...serviceConfig,
  onUserCreated: (user) => void created.push(user.id),
})
const platformApi = createAuth(serviceConfig)
const auth = platformApi

try {
  console.log(
    paint(
      1,
      'canonical-auth demo: an Auth0 SSO login becomes one canonical user UUID, in every service',
    ),
  )

  heading('1. A local Auth0 tenant and the user directory')
  pass(`issuer ${issuer.issuer} serving its RS256 key set`)
  pass(`user directory at ${directory.baseUrl} (the only source of user UUIDs), no users yet`)

  heading('2. The login page asks how Ada signs in (POST /public/auth/discover)')
  const discovered = await handleDiscoverRequest(platformApi, { body: '{"email":"Ada@Acme.com"}' })
  const answer = discovered.body as {
    method?: string
    connection?: string
    authorizationUrl?: string
  }
  if (discovered.status === 200 && answer.method === 'sso' && answer.connection === 'acme-waad') {
    pass(`200 sso via ${answer.connection} → ${answer.authorizationUrl}`)
  } else {
    fail(`discovery answered ${discovered.status} ${JSON.stringify(discovered.body)}`)
  }
  const other = await platformApi.discoverAuthProvider('bob@startup.io')
  if (other.method === 'password') pass('bob@startup.io has no SSO: method password')
  else fail(`bob@startup.io: expected password, got ${other.method}`)
  await expectRefused('a malformed email', 'invalid_request', () =>
    platformApi.discoverAuthProvider('ada@acme.com@evil.com'),
  )

  heading('3. Ada signs in through her company SSO (connection acme-waad) for the first time')
  const adaToken = await issuer.sign({
    sub: 'samlp|acme-waad|ada.lovelace',
    email: 'Ada@Acme.com',
    email_verified: true,
    scope: 'openid profile email read:reports',
  })
  const verified = await agenticBackend.verifyAuth0Token(adaToken)
  pass(`token verified: sub ${verified.subject}, connection ${verified.connection}`)
  const first = await agenticBackend.authenticate({
    headers: { authorization: `Bearer ${adaToken}` },
  })
  if (
    first.user.created &&
    first.user.source === 'directory' &&
    first.userId !== verified.subject
  ) {
    pass(`agentic-backend, hit first: created in the directory → userId ${first.userId}`)
  } else {
    fail(`agentic-backend did not get a freshly created UUID (${JSON.stringify(first.user)})`)
  }
  if (created.length === 1 && created[0] === first.userId) {
    pass('onUserCreated ran once, so the service could create its own records right away')
  } else {
    fail('onUserCreated did not run exactly once')
  }

  heading('4. The same user on platform-api, then again')
  const second = await platformApi.authenticate({ headers: { 'x-user-token': adaToken } })
  if (second.userId === first.userId && !second.user.created) {
    pass(
      `platform-api (token in X-User-Token): the same userId ${second.userId}, not created twice`,
    )
  } else {
    fail(`platform-api got ${second.userId}, expected ${first.userId}`)
  }
  const before = directory.calls.ensure
  const third = await platformApi.authenticate({ headers: { authorization: `Bearer ${adaToken}` } })
  if (third.user.source === 'cache' && directory.calls.ensure === before) {
    pass(`next call served from the cache (source: ${third.user.source}), no directory call`)
  } else {
    fail(`expected a cache hit, got source ${third.user.source}`)
  }
  const ids = [first, second, third].map((context) => context.userId)
  if (ids.every((id) => id !== verified.subject && UUID.test(id))) {
    pass(`the Auth0 sub ${verified.subject} was never used as a user id`)
  } else {
    fail(`a user id was not a directory UUID: ${ids.join(', ')}`)
  }

  heading('5. An unverified social-login email claiming Ada')
  const social = await issuer.sign({
    sub: 'google-oauth2|1093',
    email: 'ada@acme.com',
    email_verified: false,
  })
  await expectRefused('unverified email on an untrusted connection', 'identity_untrusted', () =>
    platformApi.authenticate({ headers: { authorization: `Bearer ${social}` } }),
  )

  heading('6. The user directory goes down')
  directory.fail('down')
  const grace = await issuer.sign({
    sub: 'samlp|acme-waad|grace.hopper',
    email: 'grace@acme.com',
    email_verified: true,
  })
  await expectRefused(
    'a new user while the directory is down (no guessed identity)',
    'directory_unavailable',
    () => agenticBackend.authenticate({ headers: { authorization: `Bearer ${grace}` } }),
  )
  directory.fail(null)
  const recovered = await agenticBackend.authenticate({
    headers: { authorization: `Bearer ${grace}` },
  })
  pass(`directory back: grace resolves to ${recovered.userId}`)

  heading('7. Forgeries and stale tokens are refused')
  await expectRefused('an expired token', 'token_expired', async () =>
    auth.verifyAuth0Token(await issuer.sign({ iat: now() - 7200, exp: now() - 3600 })),
  )
  await expectRefused(
    'a token signed by a key the tenant never published',
    'token_invalid',
    async () => {
      const { privateKey } = await generateKeyPair('RS256')
      const forged = await new SignJWT({ sub: 'samlp|acme-waad|ada.lovelace' })
        .setProtectedHeader({ alg: 'RS256', kid: issuer.kid })
        .setIssuer(issuer.issuer)
        .setAudience(issuer.audience)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(privateKey)
      return auth.verifyAuth0Token(forged)
    },
  )
  await expectRefused('HS256 "signed" with the public key', 'token_invalid', async () => {
    const [, payload] = adaToken.split('.')
    const input = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${payload}`
    const mac = createHmac('sha256', JSON.stringify(issuer.jwks.keys[0]))
      .update(input)
      .digest('base64url')
    return auth.verifyAuth0Token(`${input}.${mac}`)
  })
  await expectRefused('alg "none"', 'token_invalid', async () => {
    const [, payload] = adaToken.split('.')
    return auth.verifyAuth0Token(
      `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`,
    )
  })
  await expectRefused('a token from another Auth0 tenant', 'token_invalid', async () => {
    const other = await createTestIssuer({ listen: false })
    return auth.verifyAuth0Token(await other.sign())
  })

  heading('8. The key set endpoint goes down')
  issuer.fail('down')
  await new Promise((resolve) => setTimeout(resolve, 1_100))
  const during = await auth.verifyAuth0Token(
    await issuer.sign({ sub: 'samlp|acme-waad|ada.lovelace' }),
  )
  pass(`the last good key set keeps serving: ${during.subject} still verified`)
  const fresh = createAuth({ auth0: issuer.auth0 })
  await expectRefused('a new service instance with no key set yet', 'jwks_unavailable', async () =>
    fresh.verifyAuth0Token(adaToken),
  )
  await fresh.close()
  issuer.fail(null)
} finally {
  await agenticBackend.close()
  await platformApi.close()
  await issuer.close()
  await directory.close()
}

console.log(
  failures === 0
    ? `\n${paint(32, 'Every step behaved as stated.')}`
    : `\n${paint(31, `${failures} step(s) did not behave as stated.`)}`,
)
process.exitCode = failures === 0 ? 0 : 1

function now(): number {
  return Math.floor(Date.now() / 1000)
}
