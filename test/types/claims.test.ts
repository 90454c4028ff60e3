// Claims declared once, by module augmentation, type every `token.claims` and every `claims.check`
// rule: `tsc --noEmit` (npm run typecheck) checks these expectations; the consumer check
// (scripts/check-consumer-types.mjs) does the same against the built declarations.

import type { Auth, AuthContext, TokenClaims, VerifiedToken } from 'canonical-auth'
import { requireAuth } from 'canonical-auth/express'
import { describe, expect, expectTypeOf, it } from 'vitest'

declare module 'canonical-auth' {
  interface TokenClaims {
    org_id?: string
    'https://acme.example.com/roles'?: readonly string[]
  }
}

// Never called: the instance is only a typed value for the route definitions below.
const auth = undefined as unknown as Auth

describe('TokenClaims', () => {
  it('types the declared claims on every verified token, and leaves the rest unknown', () => {
    expectTypeOf<VerifiedToken['claims']['org_id']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<
      NonNullable<AuthContext['token']>['claims']['https://acme.example.com/roles']
    >().toEqualTypeOf<readonly string[] | undefined>()
    expectTypeOf<VerifiedToken['claims']['anything_else']>().toEqualTypeOf<unknown>()
    expectTypeOf<VerifiedToken['claims']>().toEqualTypeOf<Readonly<TokenClaims>>()
  })

  it('types the claims a check rule is handed', () => {
    requireAuth(auth, {
      claims: {
        check: (claims) => {
          expectTypeOf(claims.org_id).toEqualTypeOf<string | undefined>()
          return claims.org_id?.startsWith('org_') === true
        },
      },
    })
    requireAuth(auth, {
      claims: {
        // @ts-expect-error a declared claim keeps its type: org_id is a string
        check: (claims) => claims.org_id === 42,
      },
    })
  })

  it('takes JSON primitives to compare with, and lists of them to look for', () => {
    requireAuth(auth, { claims: { equals: { org_id: 'org_1', tier: 3, beta: true, gone: null } } })
    requireAuth(auth, { claims: { includes: { 'https://acme.example.com/roles': ['admin'] } } })
    // Refused by the types, and by requireAuth at run time for plain JavaScript callers.
    expect(() =>
      // @ts-expect-error an object is not a value a claim is compared with
      requireAuth(auth, { claims: { equals: { org_id: { id: 1 } } } }),
    ).toThrow(TypeError)
    expect(() =>
      // @ts-expect-error includes takes a list
      requireAuth(auth, { claims: { includes: { roles: 'admin' } } }),
    ).toThrow(TypeError)
  })
})
