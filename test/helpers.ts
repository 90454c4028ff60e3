import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  type Auth,
  type AuthError,
  type AuthErrorCode,
  type CanonicalUser,
  errorAnswer,
  isAuthError,
  UpstreamError,
} from 'canonical-auth'
import type { TestIssuer } from 'canonical-auth/testing'
import { CompactSign, type CryptoKey, generateKeyPair } from 'jose'
import { expect, vi } from 'vitest'
import { UPSTREAM_SECRET } from '../src/testing/transport.js'

/** base64url of a JSON value or raw text. */
export function b64(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return Buffer.from(text, 'utf8').toString('base64url')
}

/** Signs any header and payload bytes with any key: the attacker's tool for forged tokens. */
export async function forge(
  header: Record<string, unknown>,
  payload: unknown,
  key: CryptoKey | Uint8Array,
): Promise<string> {
  const bytes = new TextEncoder().encode(
    typeof payload === 'string' ? payload : JSON.stringify(payload),
  )
  return new CompactSign(bytes).setProtectedHeader(header as { alg: string }).sign(key)
}

/** A fresh RS256 key pair nobody configured. */
export async function strangerKey(): Promise<CryptoKey> {
  return (await generateKeyPair('RS256', { extractable: true })).privateKey
}

/** Awaits a promise that must reject with an AuthError (of any code), and returns the error. */
export async function authFailure(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(
    () => {
      throw new Error('expected an AuthError, but it resolved')
    },
    (e: unknown) => e,
  )
  expect(isAuthError(error), `expected an AuthError, got ${String(error)}`).toBe(true)
  return error as AuthError
}

/**
 * Asserts an upstream failure was answered within `withinMs` with `code` and 502, and that nothing
 * a client, a log line or an error tracker could show of it carries the upstream's body or any of
 * `secrets`. Returns the error.
 */
export async function expectFailsClosed(
  promise: Promise<unknown>,
  code: AuthErrorCode,
  withinMs: number,
  secrets: readonly string[],
): Promise<AuthError> {
  const started = Date.now()
  const error = await authFailure(promise)
  expect(Date.now() - started).toBeLessThan(withinMs)
  expect(error.code).toBe(code)
  expect(errorAnswer(error).status).toBe(502)
  const shown = [
    JSON.stringify(errorAnswer(error)),
    JSON.stringify(error),
    error.message,
    String(error.cause),
    (error.cause as Error | undefined)?.message ?? '',
  ].join('\n')
  for (const secret of [UPSTREAM_SECRET, 'hunter2', ...secrets]) expect(shown).not.toContain(secret)
  return error
}

/** Awaits a promise that must reject with an UpstreamError, and returns the error. */
export async function upstreamFailure(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the call to fail')
    },
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(UpstreamError)
  return error as UpstreamError
}

/** Reads an upstream answer's body as JSON: the `read` of a call that only wants the body. */
export const readJson = (response: { json(): Promise<unknown> }): Promise<unknown> =>
  response.json()

/** Asserts a promise rejects with an AuthError of `code`, and that its message leaks no token. */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: AuthErrorCode,
  token?: string,
): Promise<void> {
  const error = await promise.then(
    () => {
      throw new Error(`expected an AuthError ${code}, but it resolved`)
    },
    (e: unknown) => e,
  )
  expect(isAuthError(error), `expected an AuthError, got ${String(error)}`).toBe(true)
  if (!isAuthError(error)) return
  expect(error.code).toBe(code)
  if (token !== undefined) {
    for (const segment of token.split('.')) {
      if (segment.length >= 8) expect(error.message).not.toContain(segment)
    }
  }
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** The sub `TestIssuer.sign` gives a token whose claims name none. */
export const TEST_SUB = 'auth0|test-user'

/**
 * What a VerifiedToken of `issuer` for `subject` (by default {@link TEST_SUB}) holds, for
 * `toMatchObject`: that issuer, its audience and that subject.
 *
 * @example
 * ```ts
 * await expect(auth.verifyAuth0Token(token)).resolves.toMatchObject(verifiedToken(issuer))
 * ```
 */
export function verifiedToken(
  issuer: { readonly issuer: string; readonly audience: string },
  subject = TEST_SUB,
): { issuer: string; audience: string[]; subject: string } {
  return { issuer: issuer.issuer, audience: [issuer.audience], subject }
}

/** Moves the faked `Date` on by `ms` (the test has called `vi.useFakeTimers`). */
export function advance(ms: number): void {
  vi.setSystemTime(Date.now() + ms)
}

/** A UUID as RFC 9562 writes it (versions 1 to 8, the variant bits 10), in lower case. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/**
 * Signs a token as Auth0 issues it for an SSO login through the `acme-waad` enterprise connection:
 * sub `samlp|acme-waad|<user>` and the verified email `<user>@acme.com`, for `user` `ada` unless
 * named. `claims` are added to these, or replace them.
 *
 * @example
 * ```ts
 * await ssoToken(stack.issuer) // ada
 * await ssoToken(stack.issuer, { email_verified: false }) // ada, unverified
 * await ssoToken(stack.issuer, 'u2') // samlp|acme-waad|u2, u2@acme.com
 * ```
 */
export function ssoToken(
  issuer: Pick<TestIssuer, 'sign'>,
  claims?: Record<string, unknown>,
): Promise<string>
export function ssoToken(
  issuer: Pick<TestIssuer, 'sign'>,
  user: string,
  claims?: Record<string, unknown>,
): Promise<string>
export function ssoToken(
  issuer: Pick<TestIssuer, 'sign'>,
  userOrClaims: string | Record<string, unknown> = 'ada',
  extra: Record<string, unknown> = {},
): Promise<string> {
  const [user, claims] =
    typeof userOrClaims === 'string' ? [userOrClaims, extra] : ['ada', userOrClaims]
  return issuer.sign({
    sub: `samlp|acme-waad|${user}`,
    email: `${user}@acme.com`,
    email_verified: true,
    ...claims,
  })
}

/** Verifies `token` with `auth`, then resolves it to the canonical user, as a service would. */
export async function resolve(auth: Auth, token: string): Promise<CanonicalUser> {
  return auth.resolveCanonicalUser(await auth.verifyAuth0Token(token))
}

/** The headers of a request that carries `token` as `Authorization: Bearer`. */
export const bearer = (token: string): { authorization: string } => ({
  authorization: `Bearer ${token}`,
})

/** The claims of a valid token of `issuer`, issued now: sub `auth0|u1`, valid for ten minutes. */
export function claimsFor(
  issuer: { readonly issuer: string; readonly audience: string },
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    iss: issuer.issuer,
    sub: 'auth0|u1',
    aud: issuer.audience,
    iat: nowSeconds(),
    exp: nowSeconds() + 600,
    ...extra,
  }
}

/** Waits for a Node HTTP server to listen and returns its origin and a close that ends its sockets. */
export async function listening(
  server: Server,
): Promise<{ origin: string; close(): Promise<void> }> {
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve))
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
