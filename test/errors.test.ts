import { AuthError, type AuthErrorCode, isAuthError } from 'canonical-auth'
import { describe, expect, it, vi } from 'vitest'

const table: [AuthErrorCode, number][] = [
  ['token_missing', 401],
  ['invalid_request', 400],
  ['token_invalid', 401],
  ['token_expired', 401],
  ['insufficient_scope', 403],
  ['identity_untrusted', 403],
  ['user_not_provisioned', 401],
  ['directory_unavailable', 502],
  ['discovery_unavailable', 502],
  ['jwks_unavailable', 503],
  ['rate_limited', 429],
  ['internal_error', 500],
]

describe('AuthError', () => {
  it.each(table)('%s answers %i', (code, status) => {
    const error = new AuthError(code)
    expect(error.status).toBe(status)
    expect(error.message.length).toBeGreaterThan(0)
    expect(error.toJSON()).toEqual({ error: code, error_description: error.message })
  })

  it('gives a bare Bearer challenge when the token is missing', () => {
    expect(new AuthError('token_missing').wwwAuthenticate).toBe('Bearer')
  })

  it('gives RFC 6750 challenges for 401 and 403, and none otherwise', () => {
    expect(new AuthError('token_expired').wwwAuthenticate).toBe(
      'Bearer error="invalid_token", error_description="The access token has expired"',
    )
    expect(
      new AuthError('insufficient_scope', undefined, { requiredScopes: ['read:a', 'write:b'] })
        .wwwAuthenticate,
    ).toBe(
      'Bearer error="insufficient_scope", error_description="The access token lacks the required scope", scope="read:a write:b"',
    )
    expect(new AuthError('directory_unavailable').wwwAuthenticate).toBeUndefined()
    expect(new AuthError('jwks_unavailable').wwwAuthenticate).toBeUndefined()
  })

  it.each(table.filter(([, status]) => status === 401 || status === 403))(
    '%s (%i) carries only the challenge error RFC 6750 gives its status',
    (code, status) => {
      const challenge = new AuthError(code).wwwAuthenticate as string
      const error = /error="([^"]+)"/.exec(challenge)?.[1]
      expect(challenge.startsWith('Bearer')).toBe(true)
      if (error !== undefined)
        expect(error).toBe(status === 401 ? 'invalid_token' : 'insufficient_scope')
    },
  )

  it('gives a 403 for an identity that cannot be linked the bare challenge', () => {
    expect(new AuthError('identity_untrusted').wwwAuthenticate).toBe('Bearer')
  })

  it('keeps header values on one line and inside their quotes', () => {
    const challenge = new AuthError('token_invalid', 'bad "quote"\r\nSet-Cookie: x')
      .wwwAuthenticate as string
    expect(challenge).not.toMatch(/[\r\n]/)
    expect(challenge).toContain('bad \\"quote\\"Set-Cookie: x')
  })

  it('keeps the cause', () => {
    const cause = new Error('socket hang up')
    expect(new AuthError('directory_unavailable', undefined, { cause }).cause).toBe(cause)
  })

  it('is recognised across two copies of the module, where instanceof fails', async () => {
    vi.resetModules()
    const copy = (await import(
      /* @vite-ignore */ `../src/core/errors.js?copy=${Date.now()}`
    )) as typeof import('../src/core/errors.js')
    const foreign = new copy.AuthError('token_invalid')
    expect(copy.AuthError).not.toBe(AuthError)
    expect(foreign instanceof AuthError).toBe(false)
    expect(isAuthError(foreign)).toBe(true)
  })

  it('does not recognise look-alikes', () => {
    expect(isAuthError({ code: 'token_invalid', status: 401 })).toBe(false)
    expect(isAuthError(new Error('token_invalid'))).toBe(false)
    expect(isAuthError(null)).toBe(false)
  })
})
