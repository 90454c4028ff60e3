/**
 * `npm run demo`: the canonical-auth story on this machine, over real HTTP, with nothing to install.
 *
 * Starts a local Auth0 tenant (the testing kit on loopback), the example user directory on PGlite
 * (Postgres in WebAssembly; a real server with DATABASE_URL), platform-api (Express) and
 * agentic-backend (Fastify), then plays the story and checks every answer. Exits 0 only if every
 * step behaved as printed, and shuts everything down.
 *
 *   npm run demo            play the story and exit
 *   npm run demo -- --keep  play it, then keep the stack running and print tokens for curl
 */
import type { AddressInfo } from 'node:net'
import { generateKeyPair, SignJWT } from 'jose'
import { createAgenticBackend } from './agentic-backend/app.js'
import { startLocalStack } from './local-stack.js'
import { createPlatformApi } from './platform-api/app.js'

const keep = process.argv.includes('--keep')

// Every way of stopping the demo stops all of it: Ctrl-C, SIGTERM, or the process that started it
// going away (npm does not pass SIGTERM on to what it runs, which would leave this running).
const parent = process.ppid
const stopRequested = new Promise<string>((resolve) => {
  process.once('SIGINT', () => resolve('SIGINT'))
  process.once('SIGTERM', () => resolve('SIGTERM'))
  setInterval(() => {
    if (process.ppid !== parent) resolve('the process that started the demo ended')
  }, 500).unref()
})
const color = process.stdout.isTTY && !process.env.NO_COLOR
const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text)
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
let failures = 0

function check(ok: boolean, text: string): void {
  if (!ok) failures += 1
  console.log(`   ${ok ? paint(32, '✓') : paint(31, '✗')} ${text}`)
}
function heading(text: string): void {
  console.log(`\n${paint(1, text)}`)
}

interface Answer {
  readonly status: number
  readonly body: Record<string, unknown>
  readonly challenge: string | null
}

async function call(
  url: string,
  init: { token?: string; header?: string; body?: unknown } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {}
  if (init.token !== undefined)
    headers[init.header ?? 'authorization'] =
      init.header === undefined ? `Bearer ${init.token}` : init.token
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(url, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  })
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    challenge: response.headers.get('www-authenticate'),
  }
}

const now = () => Math.floor(Date.now() / 1000)
const started = performance.now()
const stack = await startLocalStack()
const platform = createPlatformApi(stack.config)
const platformServer = platform.app.listen(0, '127.0.0.1')
await new Promise((resolve) => platformServer.once('listening', resolve))
const platformUrl = `http://127.0.0.1:${(platformServer.address() as AddressInfo).port}`
const agentic = await createAgenticBackend(stack.config)
const agenticUrl = await agentic.app.listen({ port: 0, host: '127.0.0.1' })

let closed: Promise<void> | undefined
function shutdown(): Promise<void> {
  closed ??= (async () => {
    platformServer.close()
    platformServer.closeAllConnections()
    await platform.auth.close()
    await agentic.app.close()
    await stack.close()
  })()
  return closed
}

// While the story plays (and always outside --keep), a stop request ends the demo at once.
let waitingForStop = false
void stopRequested.then(async (reason) => {
  if (waitingForStop) return
  console.log(`\nStopping (${reason}).`)
  await shutdown()
  process.exit(130)
})

try {
  console.log(
    paint(
      1,
      'canonical-auth demo: an Auth0 SSO login becomes one canonical user UUID, in every service',
    ),
  )

  heading('1. The stack')
  console.log(`   local Auth0 tenant   ${stack.issuer.issuer}`)
  console.log(
    `   user directory       ${stack.directory.url}  (${stack.databaseKind}; the only source of user UUIDs)`,
  )
  console.log(`   platform-api         ${platformUrl}  (Express)`)
  console.log(
    `   agentic-backend      ${agenticUrl}  (Fastify; embeds canonical-auth, no call to platform-api)`,
  )

  heading('2. The login page asks how ada@acme.com signs in')
  const discovered = await call(`${platformUrl}/public/auth/discover`, {
    body: { email: 'Ada@Acme.com' },
  })
  check(
    discovered.status === 200 &&
      discovered.body.method === 'sso' &&
      discovered.body.connection === 'acme-waad',
    `POST /public/auth/discover → ${discovered.status} ${discovered.body.method} via ${discovered.body.connection}`,
  )
  console.log(`     ${paint(2, String(discovered.body.authorizationUrl))}`)
  const password = await call(`${platformUrl}/public/auth/discover`, {
    body: { email: 'bob@startup.io' },
  })
  check(
    password.body.method === 'password',
    `bob@startup.io → ${password.body.method} (no SSO for startup.io)`,
  )

  heading(
    '3. Ada signs in with SSO for the first time, and opens the workflow builder (agentic-backend) first',
  )
  const signAda = () =>
    stack.issuer.sign({
      sub: 'samlp|acme-waad|ada.lovelace',
      email: 'Ada@Acme.com',
      email_verified: true,
    })
  const ada = await signAda()
  const first = await call(`${agenticUrl}/workflows`, { token: ada, header: 'x-user-token' })
  const adaId = first.body.userId as string
  check(
    first.status === 200 && UUID.test(adaId),
    `GET /workflows (X-User-Token) → ${first.status}, userId ${adaId}`,
  )
  const inDirectory = await stack.store.lookup('ada@acme.com')
  const links = inDirectory === null ? [] : await stack.store.identities(inDirectory.id)
  check(
    inDirectory?.id === adaId &&
      links.length === 1 &&
      links[0]?.sub === 'samlp|acme-waad|ada.lovelace',
    `created in Postgres on that first call, linked to (${stack.issuer.issuer}, samlp|acme-waad|ada.lovelace)`,
  )

  heading('4. The same user on platform-api')
  const validated = await call(`${platformUrl}/validate`, { token: ada })
  check(
    validated.status === 200 && validated.body.userId === adaId,
    `GET /validate → the same userId ${validated.body.userId}`,
  )
  const orgs = await call(`${platformUrl}/organizations/me`, { token: ada })
  check(
    JSON.stringify(orgs.body.organizations) ===
      JSON.stringify([{ organization: 'acme', role: 'member' }]),
    'GET /organizations/me → membership in acme created just in time (the user already existed)',
  )
  const cached = await call(`${platformUrl}/validate`, { token: ada })
  check(
    cached.body.source === 'cache',
    `the next call is served from the cache (source: ${cached.body.source})`,
  )
  check(
    [first, validated, cached].every(
      (answer) => answer.body.userId !== 'samlp|acme-waad|ada.lovelace',
    ),
    'the Auth0 sub was never used as a user id',
  )

  heading("5. Emails nobody may vouch for: an unverified Google account, another company's domain")
  const social = await stack.issuer.sign({
    sub: 'google-oauth2|1093',
    email: 'ada@acme.com',
    email_verified: false,
  })
  const refused = await call(`${platformUrl}/validate`, { token: social })
  check(
    refused.status === 403 && refused.body.error === 'identity_untrusted',
    `an unverified Google account claiming ada@acme.com → ${refused.status} ${refused.body.error}: not linked to Ada's UUID`,
  )
  // acme's IdP is trusted, but only for acme.com: it cannot vouch for another company's address.
  const foreign = await stack.issuer.sign({
    sub: 'samlp|acme-waad|mallory',
    email: 'ceo@globex.com',
  })
  const notOwned = await call(`${platformUrl}/validate`, { token: foreign })
  check(
    notOwned.status === 403 && notOwned.body.error === 'identity_untrusted',
    `acme's trusted IdP asserting ceo@globex.com (not its domain) → ${notOwned.status} ${notOwned.body.error}`,
  )

  heading('6. Forged and stale tokens')
  const expired = await stack.issuer.sign({
    sub: 'samlp|acme-waad|ada.lovelace',
    iat: now() - 7200,
    exp: now() - 3600,
  })
  const expiredAnswer = await call(`${platformUrl}/validate`, { token: expired })
  check(
    expiredAnswer.status === 401 && expiredAnswer.body.error === 'token_expired',
    `expired → 401 ${expiredAnswer.body.error}; ${expiredAnswer.challenge}`,
  )
  const { privateKey } = await generateKeyPair('RS256')
  const forged = await new SignJWT({
    sub: 'samlp|acme-waad|ada.lovelace',
    email: 'ada@acme.com',
    email_verified: true,
  })
    .setProtectedHeader({ alg: 'RS256', kid: stack.issuer.kid })
    .setIssuer(stack.issuer.issuer)
    .setAudience(stack.issuer.audience)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey)
  const forgedAnswer = await call(`${agenticUrl}/workflows`, { token: forged })
  check(
    forgedAnswer.status === 401 && forgedAnswer.body.error === 'token_invalid',
    `signed with someone else's key → 401 ${forgedAnswer.body.error}`,
  )
  const missing = await call(`${agenticUrl}/workflows`)
  check(
    missing.status === 401 && missing.challenge === 'Bearer',
    `no token → 401, WWW-Authenticate: ${missing.challenge}`,
  )

  if (keep) {
    heading('The stack stays up (Ctrl-C to stop, then the outage step plays). Try it with curl:')
    const grace = await stack.issuer.sign({
      sub: 'samlp|acme-waad|grace.hopper',
      email: 'grace@acme.com',
      email_verified: true,
    })
    console.log(`   # Ada on platform-api, and on agentic-backend the way it forwards tokens`)
    console.log(`   curl -s ${platformUrl}/validate -H 'Authorization: Bearer ${ada}'`)
    console.log(`   curl -s ${agenticUrl}/workflows -H 'X-User-Token: ${ada}'`)
    console.log(`   # Grace, a first-time SSO user: created in the directory on her first call`)
    console.log(`   curl -s ${platformUrl}/validate -H 'Authorization: Bearer ${grace}'`)
    console.log(`   # how an email signs in`)
    console.log(
      `   curl -s ${platformUrl}/public/auth/discover -H 'content-type: application/json' -d '{"email":"ada@acme.com"}'`,
    )
    waitingForStop = true
    await stopRequested
  }

  heading('7. The user directory goes down')
  // Ada uses the service just before the outage (with --keep, the stack may have been up for longer
  // than the user cache keeps her), and the new user is one nobody has seen or been given a token for.
  const adaNow = await signAda()
  await call(`${agenticUrl}/workflows`, { token: adaNow })
  await stack.directory.close()
  const newcomer = await stack.issuer.sign({
    sub: `samlp|acme-waad|newcomer-${crypto.randomUUID()}`,
    email: `newcomer-${crypto.randomUUID()}@acme.com`,
    email_verified: true,
  })
  const down = await call(`${agenticUrl}/workflows`, { token: newcomer })
  check(
    down.status === 502 && down.body.error === 'directory_unavailable' && !('userId' in down.body),
    `a new user → ${down.status} ${down.body.error}, and no identity guessed`,
  )
  const stillAda = await call(`${agenticUrl}/workflows`, { token: adaNow })
  check(
    stillAda.status === 200 && stillAda.body.userId === adaId,
    'Ada, already resolved, keeps working from the cache',
  )
} catch (error) {
  failures += 1
  console.error(error)
} finally {
  await shutdown()
}

const seconds = ((performance.now() - started) / 1000).toFixed(1)
console.log(
  failures === 0
    ? `\n${paint(32, `Every step behaved as stated (${seconds} s).`)}`
    : `\n${paint(31, `${failures} step(s) did not behave as stated.`)}`,
)
process.exitCode = failures === 0 ? 0 : 1
