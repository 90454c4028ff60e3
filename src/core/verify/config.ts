import { z } from 'zod'
import { DEFAULTS } from '../defaults.js'
import { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm } from '../lib/algorithms.js'
import { hostName, nonEmpty, secureUrl } from '../lib/schema-rules.js'

export type { AsymmetricAlgorithm } from '../lib/algorithms.js'

/** How one tenant's tokens are verified: the part of `Auth0TenantConfig` verification reads. */
export interface TenantVerifyConfig {
  /** The tenant or custom domain, a host name such as `tenant.eu.auth0.com`. */
  domain?: string | undefined
  /**
   * The expected `iss` (default `https://<domain>/`), compared exactly. Any OpenID provider: given
   * alone (no `domain`, no `jwksUri`), its key set URL comes from its metadata.
   */
  issuer?: string | undefined
  /**
   * The key set URL. Default: `<issuer>.well-known/jwks.json` for an Auth0 tenant (a `domain`, or
   * an issuer on `auth0.com`); for any other issuer, the `jwks_uri` of its OpenID Connect (or RFC
   * 8414) metadata, which must name the issuer exactly. Never taken from a token.
   */
  jwksUri?: string | undefined
  /** The API identifier(s) a token's `aud` must contain (any one of them). */
  audience: string | readonly string[]
  /** Accepted signature algorithms. Default `['RS256']`; HS* and `none` are refused. */
  algorithms?: readonly AsymmetricAlgorithm[] | undefined
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default 5. */
  clockToleranceSeconds?: number | undefined
  /** Tokens issued (`iat`) longer ago than this are `token_expired`, in seconds. Default 86 400 (24 h). */
  maxTokenAgeSeconds?: number | undefined
  /** Require the RFC 9068 header `typ: at+jwt`. Default false (Auth0's default profile sends `JWT`). */
  requireAccessTokenType?: boolean | undefined
  /**
   * This tenant's claim names. Replaces the top-level `claims` whole for this tenant's tokens
   * (fields are not merged): a canonical-id claim is honoured only from tenants configured with it.
   */
  claims?: ClaimsConfig | undefined
}

/** Where identity facts live in the token. Auth0 custom claims are namespaced URLs. */
export interface ClaimsConfig {
  /** A claim that carries the canonical user UUID (used only when it holds a UUID). */
  canonicalUserId?: string | undefined
  /** The email claim. Default `email`. */
  email?: string | undefined
  /** The email-verified claim. Default `email_verified`. */
  emailVerified?: string | undefined
  /** The connection-name claim. Default: derived from an enterprise `strategy|connection|id` sub. */
  connection?: string | undefined
}

/** Claim names, defaults filled in. */
export interface ResolvedClaims {
  readonly canonicalUserId: string | undefined
  readonly email: string
  readonly emailVerified: string
  readonly connection: string | undefined
}

/** What verification needs of one tenant, defaults filled in. */
export interface TenantVerification {
  readonly issuer: string
  /** The key set URL; `undefined`: the one the issuer's metadata names. */
  readonly jwksUri: string | undefined
  readonly audience: readonly string[]
  readonly algorithms: readonly AsymmetricAlgorithm[]
  readonly clockToleranceSeconds: number
  readonly maxTokenAgeSeconds: number
  readonly requireAccessTokenType: boolean
  readonly claims: ResolvedClaims
}

const algorithm = z.enum(ASYMMETRIC_ALGORITHMS, {
  error: (issue) => {
    const value = issue.input
    if (typeof value !== 'string') return 'expected an algorithm name such as RS256'
    if (/^HS/i.test(value)) return `${value} is a symmetric algorithm and is never accepted`
    if (value.toLowerCase() === 'none') return 'unsigned tokens (none) are never accepted'
    return `unsupported algorithm '${value}'; expected one of ${ASYMMETRIC_ALGORITHMS.join(', ')}`
  },
})

export const claimsSchema = z.strictObject({
  canonicalUserId: nonEmpty.optional(),
  email: nonEmpty.optional(),
  emailVerified: nonEmpty.optional(),
  connection: nonEmpty.optional(),
})

/** The fields of a tenant that verification reads; the tenant schema adds its trust policy. */
export const tenantVerifyShape = {
  domain: hostName.optional(),
  issuer: secureUrl
    .refine((value) => !value.includes('?'), { error: 'an issuer has no query' })
    .optional(),
  jwksUri: secureUrl.optional(),
  audience: z.union(
    [nonEmpty, z.array(nonEmpty).min(1, { error: 'expected at least one audience' })],
    { error: 'expected a string or a non-empty array of strings' },
  ),
  algorithms: z.array(algorithm).min(1, { error: 'expected at least one algorithm' }).optional(),
  clockToleranceSeconds: z.number().int().min(0).max(300).optional(),
  maxTokenAgeSeconds: z.number().int().positive().max(31_536_000).optional(),
  requireAccessTokenType: z.boolean().optional(),
  claims: claimsSchema.optional(),
}

/** The top-level options verification reads. */
export const verifyShape = {
  maxTokenLength: z.number().int().min(1024).max(65_536).optional(),
  signatureCheck: z.enum(['auto', 'jose']).optional(),
}

/** Claim names with the defaults filled in. */
export function resolveClaims(claims: ClaimsConfig | undefined): ResolvedClaims {
  return {
    canonicalUserId: claims?.canonicalUserId,
    email: claims?.email ?? DEFAULTS.claims.email,
    emailVerified: claims?.emailVerified ?? DEFAULTS.claims.emailVerified,
    connection: claims?.connection,
  }
}

/**
 * One tenant's verification settings with the defaults filled in. `claims` are the top-level claim
 * names, used unless the tenant has its own (which replace them whole).
 */
export function resolveTenantVerification(
  tenant: TenantVerifyConfig,
  claims: ResolvedClaims,
): TenantVerification {
  const issuer = tenant.issuer ?? `https://${(tenant.domain as string).toLowerCase()}/`
  const auth0 = tenant.domain !== undefined || isAuth0Host(new URL(issuer).hostname)
  return {
    issuer,
    jwksUri:
      tenant.jwksUri ??
      (auth0
        ? new URL('.well-known/jwks.json', issuer.endsWith('/') ? issuer : `${issuer}/`).href
        : undefined),
    audience: typeof tenant.audience === 'string' ? [tenant.audience] : tenant.audience,
    algorithms: tenant.algorithms ?? DEFAULTS.tenant.algorithms,
    clockToleranceSeconds: tenant.clockToleranceSeconds ?? DEFAULTS.tenant.clockToleranceSeconds,
    maxTokenAgeSeconds: tenant.maxTokenAgeSeconds ?? DEFAULTS.tenant.maxTokenAgeSeconds,
    requireAccessTokenType: tenant.requireAccessTokenType ?? DEFAULTS.tenant.requireAccessTokenType,
    claims: tenant.claims === undefined ? claims : resolveClaims(tenant.claims),
  }
}

/** An Auth0 tenant host (`tenant.auth0.com`, `tenant.eu.auth0.com`), whose key set URL is known. */
function isAuth0Host(host: string): boolean {
  return host.toLowerCase().endsWith('.auth0.com')
}
