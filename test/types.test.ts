import type { Auth, AuthConfig, AuthErrorCode, VerifiedToken } from 'canonical-auth'
import { AuthError, createAuth, isAuthError, verifyAuth0Token } from 'canonical-auth'
import type { TestIssuer } from 'canonical-auth/testing'
import { describe, expectTypeOf, it } from 'vitest'

describe('public types', () => {
  it('VerifiedToken has no userId, so the sub cannot be mistaken for one', () => {
    expectTypeOf<VerifiedToken>().not.toHaveProperty('userId')
    expectTypeOf<VerifiedToken['subject']>().toEqualTypeOf<string>()
    expectTypeOf<VerifiedToken['canonicalUserId']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<VerifiedToken['audience']>().toEqualTypeOf<readonly string[]>()
  })

  it('verification returns a VerifiedToken', () => {
    expectTypeOf(createAuth).returns.toEqualTypeOf<Auth>()
    expectTypeOf<Auth['verifyAuth0Token']>().returns.resolves.toEqualTypeOf<VerifiedToken>()
    expectTypeOf(verifyAuth0Token).parameters.toEqualTypeOf<[string, AuthConfig]>()
  })

  it('isAuthError narrows and codes are a closed union', () => {
    const value: unknown = new AuthError('token_invalid')
    if (isAuthError(value)) expectTypeOf(value.code).toEqualTypeOf<AuthErrorCode>()
    expectTypeOf<'token_invalid'>().toExtend<AuthErrorCode>()
    expectTypeOf<'sub_fallback'>().not.toExtend<AuthErrorCode>()
  })

  it('config rejects symmetric algorithms at the type level too', () => {
    expectTypeOf<{ domain: 'a.b'; audience: 'x'; algorithms: ['HS256'] }>().not.toExtend<
      AuthConfig['auth0']
    >()
    expectTypeOf<TestIssuer['auth0']>().toExtend<AuthConfig['auth0']>()
  })
})
