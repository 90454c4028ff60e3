/**
 * `npm run demo`: the canonical-auth story on this machine, with nothing to install.
 *
 * A local Auth0 stand-in (the testing kit on loopback) issues real RS256 access tokens; the same
 * code a service runs verifies them, refuses forgeries, and rides out a key set outage.
 * Exits 0 only if every step behaved as printed.
 */
import { createHmac } from 'node:crypto'
import { createAuth, isAuthError } from 'canonical-auth'
import { createTestIssuer } from 'canonical-auth/testing'
import { generateKeyPair, SignJWT } from 'jose'

const color = process.stdout.isTTY && !process.env.NO_COLOR
const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text)
let failures = 0

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
const auth = createAuth({ auth0: issuer.auth0, jwks: { cacheMaxAgeMs: 1_000 } })

try {
  console.log(
    paint(1, 'canonical-auth demo: Auth0 SSO access tokens, verified the same way everywhere'),
  )

  heading('1. A local Auth0 tenant')
  pass(`issuer ${issuer.issuer} serving its RS256 key set at ${issuer.jwksUri}`)

  heading('2. Ada signs in through her company SSO (connection acme-waad)')
  const adaToken = await issuer.sign({
    sub: 'samlp|acme-waad|ada.lovelace',
    email: 'ada@acme.com',
    email_verified: true,
    scope: 'openid profile email read:reports',
  })
  const verified = await auth.verifyAuth0Token(adaToken)
  pass(
    `signature, issuer, audience and lifetime verified; expires ${verified.expiresAt.toISOString()}`,
  )
  pass(
    `subject ${verified.subject}: an Auth0 id, never used as a user id (the result has no userId)`,
  )
  if (
    !('userId' in verified) &&
    verified.connection === 'acme-waad' &&
    verified.email === 'ada@acme.com'
  ) {
    pass(
      `connection ${verified.connection}, email ${verified.email} (verified: ${verified.emailVerified})`,
    )
  } else {
    fail('the verified token does not describe Ada as expected')
  }
  pass(`scopes: ${verified.scopes.join(' ')}`)

  heading('3. Forgeries and stale tokens are refused')
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

  heading('4. The key set endpoint goes down')
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
  await auth.close()
  await issuer.close()
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
