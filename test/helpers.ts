import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type AuthError, type AuthErrorCode, errorAnswer, isAuthError } from 'canonical-auth'
import { CompactSign, type CryptoKey, generateKeyPair } from 'jose'
import { expect } from 'vitest'
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
