import { AuthError } from '../errors.js'
import type { TokenClaims } from '../types.js'

/** A value a claim rule compares with: a JSON primitive. */
export type ClaimValue = string | number | boolean | null

/**
 * Rules a route puts on the token's claims, beyond scopes and permissions. A token that breaks one
 * is refused with 401 `token_invalid`, its description naming the claim but neither the expected
 * nor the actual value.
 *
 * @example
 * ```ts
 * requireAuth(auth, {
 *   claims: {
 *     equals: { org_id: 'org_1' },
 *     includes: { 'https://acme.example.com/roles': ['admin'] },
 *     check: (claims) => claims.email_verified === true,
 *   },
 * })
 * ```
 */
export interface ClaimRules {
  /** Each claim must be present and equal (`===`) to its value. */
  equals?: { readonly [claim: string]: ClaimValue }
  /**
   * Each claim must hold every listed value: an array claim as its items, a string claim as its
   * space-separated words (like `scope`).
   */
  includes?: { readonly [claim: string]: readonly ClaimValue[] }
  /**
   * Any predicate over the verified claims; only `true` lets the request through (a promise or
   * any other value refuses it). Runs after `equals` and `includes`.
   */
  check?: (claims: Readonly<TokenClaims>) => boolean
}

const RULE_NAMES = ['equals', 'includes', 'check'] as const

/** Checks a route's claim rules against a token's claims; throws `token_invalid`. */
export type ClaimRulesCheck = (claims: Readonly<Record<string, unknown>> | undefined) => void

/**
 * Validates `rules` once, when the route is set up (a `TypeError` for a rule that cannot be
 * meant), and returns its check, or `undefined` when there is nothing to check.
 */
export function compileClaimRules(rules: ClaimRules | undefined): ClaimRulesCheck | undefined {
  if (rules === undefined) return undefined
  if (typeof rules !== 'object' || rules === null || Array.isArray(rules)) {
    throw invalid('claims takes an object with equals, includes and check')
  }
  for (const key of Object.keys(rules)) {
    if (!(RULE_NAMES as readonly string[]).includes(key)) {
      throw invalid(`claims has no rule "${key}" (the rules are equals, includes and check)`)
    }
  }
  const equals = entriesOf(rules.equals, 'equals').map(([claim, value]) => {
    if (!isClaimValue(value)) {
      throw invalid(`claims.equals["${claim}"] must be a string, number, boolean or null`)
    }
    return [claim, value] as const
  })
  const includes = entriesOf(rules.includes, 'includes').map(([claim, values]) => {
    if (!Array.isArray(values) || values.length === 0 || !values.every(isClaimValue)) {
      throw invalid(
        `claims.includes["${claim}"] must be a non-empty list of strings, numbers, booleans or null`,
      )
    }
    return [claim, [...values] as readonly ClaimValue[]] as const
  })
  const { check } = rules
  if (check !== undefined && typeof check !== 'function') {
    throw invalid('claims.check must be a function')
  }
  if (equals.length === 0 && includes.length === 0 && check === undefined) return undefined
  return (claims) => {
    if (claims === undefined) {
      // A legacy token carries no verified claims: no rule can hold.
      throw new AuthError('token_invalid', 'The access token carries no claims to check')
    }
    for (const [claim, expected] of equals) {
      if (claimOf(claims, claim) !== expected) throw unexpected(claim)
    }
    for (const [claim, expected] of includes) {
      const actual = claimOf(claims, claim)
      const held =
        typeof actual === 'string'
          ? actual.split(' ')
          : Array.isArray(actual)
            ? (actual as readonly unknown[])
            : undefined
      if (held === undefined || !expected.every((value) => held.includes(value))) {
        throw unexpected(claim)
      }
    }
    if (check !== undefined && check(claims as Readonly<TokenClaims>) !== true) {
      throw new AuthError('token_invalid', 'Unexpected claim value')
    }
  }
}

/** The claim's value when the token has it as its own, else a refusal naming it. */
function claimOf(claims: Readonly<Record<string, unknown>>, claim: string): unknown {
  if (!Object.hasOwn(claims, claim)) {
    throw new AuthError('token_invalid', `Missing '${claim}' claim`)
  }
  return claims[claim]
}

function unexpected(claim: string): AuthError {
  return new AuthError('token_invalid', `Unexpected '${claim}' value`)
}

function entriesOf(value: unknown, rule: string): [string, unknown][] {
  if (value === undefined) return []
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`claims.${rule} takes an object of claim names`)
  }
  const entries = Object.entries(value)
  for (const [claim] of entries) {
    if (claim === '') throw invalid(`claims.${rule} names an empty claim`)
  }
  return entries
}

function isClaimValue(value: unknown): value is ClaimValue {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  )
}

function invalid(message: string): TypeError {
  return new TypeError(`canonical-auth: requireAuth ${message}`)
}
