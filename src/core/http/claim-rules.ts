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
  if (!isPlainObject(rules)) {
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
    if (
      !Array.isArray(values) ||
      values.length === 0 ||
      !values.every((value) => isClaimValue(value) && value !== '')
    ) {
      throw invalid(
        `claims.includes["${claim}"] must be a non-empty list of strings (not empty), numbers, booleans or null`,
      )
    }
    return [claim, [...values] as readonly ClaimValue[]] as const
  })
  const { check } = rules
  if (check !== undefined && typeof check !== 'function') {
    throw invalid('claims.check must be a function')
  }
  if (equals.length === 0 && includes.length === 0 && check === undefined) {
    // A route that meant a rule and got none would let every token through.
    throw invalid('claims has no rule: give equals, includes or check, or leave claims out')
  }
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
    if (check === undefined) return
    const held = check(claims as Readonly<TokenClaims>) as unknown
    if (held === true) return
    // A promise is not an answer (the check is synchronous): it refuses, and its own failure is
    // caught here rather than left to crash the process as an unhandled rejection.
    if (typeof (held as PromiseLike<unknown> | undefined)?.then === 'function') {
      Promise.resolve(held).catch(() => {})
    }
    throw new AuthError('token_invalid', 'Unexpected claim value')
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
  // A Map, a class instance or inherited keys would read as no rule at all: refused instead.
  if (!isPlainObject(value)) throw invalid(`claims.${rule} takes a plain object of claim names`)
  const entries = Object.entries(value)
  if (entries.length === 0) throw invalid(`claims.${rule} names no claim`)
  for (const [claim] of entries) {
    if (claim === '') throw invalid(`claims.${rule} names an empty claim`)
  }
  return entries
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
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
