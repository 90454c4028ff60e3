import type { Auth } from '../auth.js'
import {
  AUTHENTICATE_NOW,
  type AuthenticateRequest,
  type AuthenticatesNow,
} from '../authenticate.js'
import { DPOP_CHALLENGE, type HasDpopChallenge } from '../dpop/gate.js'
import { AuthError, isAuthError, withDpopChallenge, withResourceMetadata } from '../errors.js'
import type { AuthContext } from '../types.js'
import { type ClaimRules, compileClaimRules } from './claim-rules.js'
import { protectedResourceOf } from './resource-metadata.js'

/** Required scopes or permissions: a list (all of them), or `{ anyOf }` / `{ allOf }`. */
export type ScopeRequirement =
  | readonly string[]
  | { readonly anyOf: readonly string[] }
  | { readonly allOf: readonly string[] }

/** Options of `requireAuth` in every adapter. */
export interface RequireAuthOptions {
  /** OAuth scopes the token must carry (its `scope` claim). */
  scopes?: ScopeRequirement
  /** Auth0 RBAC permissions the token must carry (its `permissions` claim). */
  permissions?: ScopeRequirement
  /**
   * Rules on the token's other claims (`equals`, `includes`, `check`); a token that breaks one is
   * 401 `token_invalid`. Checked before scopes and permissions.
   */
  claims?: ClaimRules
  /**
   * Let requests without a token through, without `auth`. A token that is present but invalid is
   * still refused.
   */
  optional?: boolean
  /**
   * Hand failures to the framework's own error handling (Express `next(err)`, Fastify's error
   * handler, a Koa `throw`) as the same {@link AuthError}, instead of answering them.
   */
  delegateErrors?: boolean
}

interface Rule {
  readonly kind: 'all' | 'any'
  readonly values: readonly string[]
}

function toRule(requirement: ScopeRequirement | undefined, name: string): Rule | undefined {
  if (requirement === undefined) return undefined
  if (
    !Array.isArray(requirement) &&
    typeof requirement === 'object' &&
    requirement !== null &&
    'anyOf' in requirement === 'allOf' in requirement
  ) {
    throw new TypeError(
      `canonical-auth: requireAuth ${name} takes a list, { anyOf } or { allOf }, not both or neither`,
    )
  }
  const [kind, values] = Array.isArray(requirement)
    ? (['all', requirement] as const)
    : 'anyOf' in requirement
      ? (['any', requirement.anyOf] as const)
      : (['all', (requirement as { allOf: readonly string[] }).allOf] as const)
  if (
    !Array.isArray(values) ||
    values.length === 0 ||
    !values.every((v) => typeof v === 'string' && v !== '')
  ) {
    throw new TypeError(`canonical-auth: requireAuth ${name} must be a non-empty list of strings`)
  }
  return { kind, values }
}

function satisfied(rule: Rule | undefined, granted: readonly string[]): boolean {
  if (rule === undefined) return true
  return rule.kind === 'all'
    ? rule.values.every((v) => granted.includes(v))
    : rule.values.some((v) => granted.includes(v))
}

/**
 * What an adapter hands the guard: the request as `authenticate` takes it, but the URL may be a
 * function (such as one calling `requestUrl`) whose refusal of a malformed request is answered
 * like any other.
 */
export interface GuardRequest extends Omit<AuthenticateRequest, 'url'> {
  readonly url?: string | (() => string) | undefined
}

/** What a guard answers: the context, `undefined` (an optional route without a token), or later. */
export type GuardResult = AuthContext | undefined | Promise<AuthContext | undefined>

/**
 * The one request check every adapter runs: authenticate, then the route's claim rules, then its
 * scope and permission requirements. A request whose token and user are in memory is answered at once, with no promise
 * (the adapter then goes on synchronously); anything else is a promise. Never throws: a refusal is
 * a rejected promise.
 */
export function createGuard(
  auth: Auth,
  options: RequireAuthOptions = {},
): (request: GuardRequest) => GuardResult {
  const scopes = toRule(options.scopes, 'scopes')
  const permissions = toRule(options.permissions, 'permissions')
  const claims = compileClaimRules(options.claims)
  const optional = options.optional === true
  const now = (auth as Partial<AuthenticatesNow> | undefined)?.[AUTHENTICATE_NOW]
  // With protected resource metadata, every refusal's challenge points to it (RFC 9728 §5.1).
  const metadataUrl = protectedResourceOf(auth)?.metadataUrl
  const point =
    metadataUrl === undefined
      ? undefined
      : (error: unknown): never => {
          throw withResourceMetadata(error, metadataUrl)
        }
  const dpopChallenge = (auth as Partial<HasDpopChallenge> | undefined)?.[DPOP_CHALLENGE]
  const rules = (context: AuthContext): AuthContext => {
    claims?.(context.token?.claims)
    if (!satisfied(scopes, context.token?.scopes ?? [])) {
      throw new AuthError('insufficient_scope', undefined, { requiredScopes: scopes?.values ?? [] })
    }
    if (!satisfied(permissions, context.token?.permissions ?? [])) {
      throw new AuthError('insufficient_scope', 'The access token lacks the required permission')
    }
    return context
  }
  // A DPoP request's refusal carries the DPoP challenge (RFC 9449 §7.1).
  const check =
    dpopChallenge === undefined
      ? rules
      : (context: AuthContext): AuthContext => {
          if (context.dpop === undefined) return rules(context)
          try {
            return rules(context)
          } catch (error) {
            throw withDpopChallenge(error, dpopChallenge)
          }
        }
  const missing = (error: unknown): undefined => {
    if (optional && isAuthError(error) && error.code === 'token_missing') return undefined
    throw error
  }
  return (given) => {
    try {
      const request: AuthenticateRequest =
        typeof given.url === 'function'
          ? { ...given, url: given.url() }
          : (given as AuthenticateRequest)
      const result = now === undefined ? auth.authenticate(request) : now.call(auth, request)
      if (!(result instanceof Promise)) return check(result)
      const checked = result.then(check, missing)
      return point === undefined ? checked : checked.catch(point)
    } catch (error) {
      try {
        return missing(error)
      } catch (refusal) {
        return Promise.reject(
          point === undefined ? refusal : withResourceMetadata(refusal, metadataUrl as string),
        )
      }
    }
  }
}
