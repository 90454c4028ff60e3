import type { AuthContext, ClaimRules } from 'canonical-auth'
import { describe, expect, it, vi } from 'vitest'
import { createGuard } from '../../src/core/http/guard.js'
import { useTestStack } from '../stack.js'

const LEGACY_ID = '2c5ea4c0-4067-11e9-8bad-9b1deb4d3b7d'
const stack = useTestStack(({ directory }) => ({ directory: { baseUrl: directory.baseUrl } }))
const USER = { sub: 'samlp|acme-waad|ada', email: 'ada@acme.com', email_verified: true }

/** The guard's answer for a token with `claims` on a route with `rules`: the context or the error. */
async function answer(
  rules: ClaimRules,
  claims: Record<string, unknown>,
): Promise<AuthContext | Error | undefined> {
  const guard = createGuard(stack.auth(), { claims: rules })
  const token = await stack.issuer.sign({ ...USER, ...claims })
  try {
    return await guard({ headers: { authorization: `Bearer ${token}` } })
  } catch (error) {
    return error as Error
  }
}

function refusal(description: string) {
  return expect.objectContaining({ code: 'token_invalid', status: 401, message: description })
}

describe('claims.equals', () => {
  it('lets a token through whose claim has the value', async () => {
    const context = await answer(
      { equals: { org_id: 'org_1', tier: 3, beta: false } },
      {
        org_id: 'org_1',
        tier: 3,
        beta: false,
      },
    )
    expect(context).toMatchObject({ userId: expect.any(String) })
  })

  it('refuses another value, naming the claim and neither value', async () => {
    const error = await answer({ equals: { org_id: 'org_1' } }, { org_id: 'org_2' })
    expect(error).toEqual(refusal("Unexpected 'org_id' value"))
    expect((error as unknown as { wwwAuthenticate: string }).wwwAuthenticate).toBe(
      `Bearer error="invalid_token", error_description="Unexpected 'org_id' value"`,
    )
  })

  it('compares strictly: no coercion between types', async () => {
    expect(await answer({ equals: { tier: 3 } }, { tier: '3' })).toEqual(
      refusal("Unexpected 'tier' value"),
    )
    expect(await answer({ equals: { beta: true } }, { beta: 1 })).toEqual(
      refusal("Unexpected 'beta' value"),
    )
    expect(await answer({ equals: { org_id: 'org_1' } }, { org_id: ['org_1'] })).toEqual(
      refusal("Unexpected 'org_id' value"),
    )
  })

  it('tells a missing claim from a wrong one, and null from missing', async () => {
    expect(await answer({ equals: { org_id: null } }, {})).toEqual(
      refusal("Missing 'org_id' claim"),
    )
    expect(await answer({ equals: { org_id: null } }, { org_id: null })).toMatchObject({
      userId: expect.any(String),
    })
  })

  it("reads only the token's own claims, never an object's inherited members", async () => {
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(await answer({ equals: { [name]: 'x' } }, {})).toEqual(
        refusal(`Missing '${name}' claim`),
      )
    }
  })

  it('takes namespaced claim names', async () => {
    const rules = { equals: { 'https://acme.example.com/tenant': 'acme' } }
    expect(await answer(rules, { 'https://acme.example.com/tenant': 'acme' })).toMatchObject({
      userId: expect.any(String),
    })
    expect(await answer(rules, { 'https://acme.example.com/tenant': 'globex' })).toEqual(
      refusal("Unexpected 'https://acme.example.com/tenant' value"),
    )
  })
})

describe('claims.includes', () => {
  const roles = 'https://acme.example.com/roles'

  it('requires every listed value in an array claim', async () => {
    const rules = { includes: { [roles]: ['admin', 'billing'] } }
    expect(await answer(rules, { [roles]: ['viewer', 'billing', 'admin'] })).toMatchObject({
      userId: expect.any(String),
    })
    expect(await answer(rules, { [roles]: ['admin'] })).toEqual(
      refusal(`Unexpected '${roles}' value`),
    )
  })

  it('reads a string claim as space-separated words, whole words only', async () => {
    const rules = { includes: { groups: ['eng', 'ops'] } }
    expect(await answer(rules, { groups: 'ops sales eng' })).toMatchObject({
      userId: expect.any(String),
    })
    expect(await answer(rules, { groups: 'engineering ops' })).toEqual(
      refusal("Unexpected 'groups' value"),
    )
  })

  it('refuses a claim that is neither an array nor a string, and a missing one', async () => {
    const rules = { includes: { groups: ['eng'] } }
    for (const groups of [{ eng: true }, 1, true, null]) {
      expect(await answer(rules, { groups })).toEqual(refusal("Unexpected 'groups' value"))
    }
    expect(await answer(rules, {})).toEqual(refusal("Missing 'groups' claim"))
  })

  it('compares items strictly', async () => {
    expect(await answer({ includes: { levels: [1] } }, { levels: ['1'] })).toEqual(
      refusal("Unexpected 'levels' value"),
    )
  })
})

describe('claims.check', () => {
  it('is handed the verified claims, and only true lets the request through', async () => {
    const check = vi.fn((claims: Readonly<Record<string, unknown>>) => claims.org_id === 'org_1')
    expect(await answer({ check }, { org_id: 'org_1' })).toMatchObject({
      userId: expect.any(String),
    })
    expect(check).toHaveBeenCalledWith(expect.objectContaining({ org_id: 'org_1', ...USER }))
    expect(await answer({ check }, { org_id: 'org_2' })).toEqual(refusal('Unexpected claim value'))
  })

  it('refuses on a truthy answer that is not true: a promise, a number, a string', async () => {
    for (const value of [Promise.resolve(true), 1, 'yes', {}]) {
      const check = (() => value) as unknown as NonNullable<ClaimRules['check']>
      expect(await answer({ check }, {})).toEqual(refusal('Unexpected claim value'))
    }
  })

  it('refuses a check that answers with a promise, and a promise that fails takes nothing down', async () => {
    const failing = (async () => {
      throw new Error('lookup failed')
    }) as unknown as NonNullable<ClaimRules['check']>
    expect(await answer({ check: failing }, {})).toEqual(refusal('Unexpected claim value'))
    // The rejected promise was handled: vitest fails the run on an unhandled rejection.
    await new Promise((resolve) => setTimeout(resolve, 10))
  })

  it('passes on an error the predicate throws, as the route fails closed', async () => {
    const boom = new Error('bug in the predicate')
    const error = await answer(
      {
        check: () => {
          throw boom
        },
      },
      {},
    )
    expect(error).toBe(boom)
  })

  it('runs after equals and includes, and before scopes', async () => {
    const check = vi.fn(() => true)
    const rules = { equals: { org_id: 'org_1' }, check }
    expect(await answer(rules, { org_id: 'org_2' })).toEqual(refusal("Unexpected 'org_id' value"))
    expect(check).not.toHaveBeenCalled()
    const guard = createGuard(stack.auth(), { claims: rules, scopes: ['read:reports'] })
    const bad = await stack.issuer.sign({ ...USER, org_id: 'org_2' })
    await expect(guard({ headers: { authorization: `Bearer ${bad}` } })).rejects.toMatchObject({
      code: 'token_invalid',
    })
    const good = await stack.issuer.sign({ ...USER, org_id: 'org_1' })
    await expect(guard({ headers: { authorization: `Bearer ${good}` } })).rejects.toMatchObject({
      code: 'insufficient_scope',
    })
  })
})

describe('claim rules and the guard', () => {
  it('applies to a token answered from memory just the same', async () => {
    const guard = createGuard(stack.auth(), { claims: { equals: { org_id: 'org_1' } } })
    const bad = await stack.issuer.sign({ ...USER, org_id: 'org_2' })
    for (let round = 0; round < 3; round++) {
      const result = guard({ headers: { authorization: `Bearer ${bad}` } })
      await expect(result).rejects.toMatchObject({ message: "Unexpected 'org_id' value" })
    }
  })

  it('refuses a legacy token, which carries no verified claims', async () => {
    const auth = stack.auth({ legacy: { verify: async () => ({ userId: LEGACY_ID }) } })
    const guard = createGuard(auth, { claims: { check: () => true } })
    await expect(guard({ headers: { 'x-user-token': 'legacy-opaque' } })).rejects.toEqual(
      refusal('The access token carries no claims to check'),
    )
    expect(await createGuard(auth)({ headers: { 'x-user-token': 'legacy-opaque' } })).toMatchObject(
      { userId: LEGACY_ID },
    )
  })

  it('leaves an optional route without a token open', async () => {
    const guard = createGuard(stack.auth(), { optional: true, claims: { equals: { a: 1 } } })
    expect(await guard({ headers: {} })).toBeUndefined()
  })

  it.each<[string, unknown, RegExp]>([
    ['a list', [], /claims takes an object/],
    ['no rule at all', {}, /claims has no rule/],
    ['a Map of claims', { equals: new Map([['org_id', 'org_1']]) }, /plain object/],
    ['inherited claim names', { equals: Object.create({ org_id: 'org_1' }) }, /plain object/],
    ['an equals naming no claim', { equals: {} }, /claims.equals names no claim/],
    ['an includes naming no claim', { includes: {} }, /claims.includes names no claim/],
    ['includes with an empty string', { includes: { roles: [''] } }, /includes\["roles"\]/],
    ['an unknown rule', { equal: { a: 1 } }, /no rule "equal".*equals, includes and check/],
    ['equals as a list', { equals: [] }, /claims.equals takes a plain object/],
    ['an object to compare with', { equals: { a: { b: 1 } } }, /claims.equals\["a"\] must be/],
    ['NaN to compare with', { equals: { a: Number.NaN } }, /claims.equals\["a"\] must be/],
    ['an empty claim name', { equals: { '': 'x' } }, /names an empty claim/],
    ['includes with one value', { includes: { a: 'x' } }, /claims.includes\["a"\] must be/],
    ['includes with no value', { includes: { a: [] } }, /claims.includes\["a"\] must be/],
    ['includes with an object', { includes: { a: [{}] } }, /claims.includes\["a"\] must be/],
    ['a check that is not a function', { check: true }, /claims.check must be a function/],
  ])('refuses %s when the route is set up', (_name, claims, message) => {
    expect(() => createGuard(stack.auth(), { claims: claims as ClaimRules })).toThrow(
      expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(message) }),
    )
  })
})
