import { z } from 'zod'
import { isLoopbackHost } from './url.js'

/** Asymmetric JWS algorithms a tenant may allow. HS* and `none` are never accepted. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const

/** An asymmetric JWS algorithm name. */
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number]

/** One Auth0 tenant (or custom domain) whose access tokens are accepted. */
export interface Auth0TenantConfig {
  /** The tenant or custom domain, a host name such as `tenant.eu.auth0.com`. */
  domain?: string
  /** Overrides the expected `iss` (default `https://<domain>/`), compared exactly. */
  issuer?: string
  /** Overrides the key set URL (default `<issuer>.well-known/jwks.json`). Never taken from a token. */
  jwksUri?: string
  /** The API identifier(s) a token's `aud` must contain (any one of them). */
  audience: string | readonly string[]
  /** Accepted signature algorithms. Default `['RS256']`; HS* and `none` are refused. */
  algorithms?: readonly AsymmetricAlgorithm[]
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default 5. */
  clockToleranceSeconds?: number
  /** Tokens issued (`iat`) longer ago than this are `token_expired`. Default 86 400 (24 h). */
  maxTokenAgeSeconds?: number
  /** Require the RFC 9068 header `typ: at+jwt`. Default false (Auth0's default profile sends `JWT`). */
  requireAccessTokenType?: boolean
}

/** Where identity facts live in the token. Auth0 custom claims are namespaced URLs. */
export interface ClaimsConfig {
  /** A claim that carries the canonical user UUID (used only when it holds a UUID). */
  canonicalUserId?: string
  /** The email claim. Default `email`. */
  email?: string
  /** The email-verified claim. Default `email_verified`. */
  emailVerified?: string
  /** The connection-name claim. Default: derived from a `strategy|connection|id` sub. */
  connection?: string
}

/** How the signing key set is fetched and kept. */
export interface JwksConfig {
  /** Timeout of one key set request, in milliseconds. Default 5 000. */
  timeoutMs?: number
  /** How long a fetched key set is used before it is refreshed, in milliseconds. Default 600 000. */
  cacheMaxAgeMs?: number
  /** Minimum time between fetches triggered by unknown `kid`s, in milliseconds. Default 30 000. */
  cooldownMs?: number
  /** How long past `cacheMaxAgeMs` the last good key set is served while refreshes fail. Default 3 600 000. */
  staleIfErrorMs?: number
}

/** Configuration for {@link createAuth}. Validated once, when the instance is created. */
export interface AuthConfig {
  /** The Auth0 tenant, or several tenants and custom domains. */
  auth0: Auth0TenantConfig | readonly Auth0TenantConfig[]
  /** The user directory that owns canonical user UUIDs. */
  directory?: DirectoryConfig
  /** Claim names. */
  claims?: ClaimsConfig
  /** Key set fetching and caching. */
  jwks?: JwksConfig
  /** Longest token accepted, in characters. Default 8 192. */
  maxTokenLength?: number
}

/** The user directory's HTTP endpoint (DESIGN's wire contract). */
export interface DirectoryConfig {
  /** Base URL of the directory, `https:` (or `http:` for a loopback or internal host). */
  baseUrl: string
  /** `ensure` (get-or-create, default) or `lookup` (read-only). */
  mode?: 'ensure' | 'lookup'
  /** Headers sent with each call, e.g. the service credential; or a function returning them. */
  headers?:
    | Readonly<Record<string, string>>
    | (() => Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>)
  /** Timeout of one attempt, in milliseconds. Default 3 000. */
  timeoutMs?: number
  /** Retries after the first attempt. Default 2. */
  retries?: number
  /** Path overrides. */
  paths?: { ensure?: string; lookup?: string }
}

export interface ResolvedTenant {
  readonly issuer: string
  readonly jwksUri: string
  readonly audience: readonly string[]
  readonly algorithms: readonly AsymmetricAlgorithm[]
  readonly clockToleranceSeconds: number
  readonly maxTokenAgeSeconds: number
  readonly requireAccessTokenType: boolean
}

export interface ResolvedConfig {
  readonly tenants: readonly ResolvedTenant[]
  readonly claims: {
    readonly canonicalUserId: string | undefined
    readonly email: string
    readonly emailVerified: string
    readonly connection: string | undefined
  }
  readonly jwks: Required<JwksConfig>
  readonly maxTokenLength: number
  readonly directory: DirectoryConfig | undefined
}

/**
 * Thrown by {@link createAuth} when the configuration is invalid. Its message names each bad
 * field by its path, e.g. `auth0.audience: expected a non-empty string`.
 */
export class AuthConfigError extends Error {
  override readonly name = 'AuthConfigError'
  /** One entry per problem: the field's dotted path and what is wrong with it. */
  readonly issues: readonly { path: string; message: string }[]

  constructor(issues: readonly { path: string; message: string }[]) {
    super(
      `canonical-auth: invalid configuration:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
    )
    this.issues = issues
  }
}

const HOST =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i

const nonEmpty = z.string().trim().min(1, { error: 'expected a non-empty string' })

const domain = z.string().refine((value) => HOST.test(value), {
  error: (issue) =>
    typeof issue.input === 'string' && issue.input.includes('://')
      ? "expected a host name such as 'tenant.eu.auth0.com', not a URL"
      : "expected a host name such as 'tenant.eu.auth0.com'",
})

/** An absolute `https:` URL, or `http:` only for a loopback host. */
const secureUrl = z.string().superRefine((value, ctx) => {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected an absolute URL' })
    return
  }
  if (url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: 'must not contain credentials' })
  } else if (url.hash) {
    ctx.addIssue({ code: 'custom', message: 'must not contain a fragment' })
  } else if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    ctx.addIssue({
      code: 'custom',
      message: 'http: is accepted only for a loopback host; use https:',
    })
  } else if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    ctx.addIssue({ code: 'custom', message: 'expected an https: URL' })
  }
})

const algorithm = z.string().superRefine((value, ctx) => {
  if ((ASYMMETRIC_ALGORITHMS as readonly string[]).includes(value)) return
  const reason = /^HS/i.test(value)
    ? `${value} is a symmetric algorithm and is never accepted`
    : value.toLowerCase() === 'none'
      ? 'unsigned tokens (none) are never accepted'
      : `unsupported algorithm '${value}'; expected one of ${ASYMMETRIC_ALGORITHMS.join(', ')}`
  ctx.addIssue({ code: 'custom', message: reason })
})

const tenantSchema = z
  .strictObject({
    domain: domain.optional(),
    issuer: secureUrl.optional(),
    jwksUri: secureUrl.optional(),
    audience: z.union(
      [nonEmpty, z.array(nonEmpty).min(1, { error: 'expected at least one audience' })],
      {
        error: 'expected a string or a non-empty array of strings',
      },
    ),
    algorithms: z.array(algorithm).min(1, { error: 'expected at least one algorithm' }).optional(),
    clockToleranceSeconds: z.number().int().min(0).max(300).optional(),
    maxTokenAgeSeconds: z.number().int().positive().max(31_536_000).optional(),
    requireAccessTokenType: z.boolean().optional(),
  })
  .refine((tenant) => tenant.domain !== undefined || tenant.issuer !== undefined, {
    error: 'expected a domain (or an issuer)',
    path: ['domain'],
  })

const claimName = nonEmpty.optional()
const positiveMs = z.number().int().positive().max(86_400_000).optional()

const headersSchema = z.union(
  [
    z.record(z.string(), z.string()),
    z.custom<() => Record<string, string>>((v) => typeof v === 'function'),
  ],
  { error: 'expected an object of header strings or a function returning one' },
)

const directorySchema = z.strictObject({
  baseUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  mode: z.enum(['ensure', 'lookup']).optional(),
  headers: headersSchema.optional(),
  timeoutMs: positiveMs,
  retries: z.number().int().min(0).max(10).optional(),
  paths: z.strictObject({ ensure: nonEmpty.optional(), lookup: nonEmpty.optional() }).optional(),
})

const configSchema = z.strictObject({
  // One tenant or several: normalised to a list so a single tenant's errors name its fields.
  auth0: z.preprocess(
    (value) => (Array.isArray(value) || value === undefined ? value : [value]),
    z.array(tenantSchema, { error: 'expected a tenant object or a list of them' }).min(1, {
      error: 'expected at least one tenant',
    }),
  ),
  directory: directorySchema.optional(),
  claims: z
    .strictObject({
      canonicalUserId: claimName,
      email: claimName,
      emailVerified: claimName,
      connection: claimName,
    })
    .optional(),
  jwks: z
    .strictObject({
      timeoutMs: positiveMs,
      cacheMaxAgeMs: positiveMs,
      cooldownMs: positiveMs,
      staleIfErrorMs: z.number().int().min(0).max(604_800_000).optional(),
    })
    .optional(),
  maxTokenLength: z.number().int().min(1024).max(65_536).optional(),
})

/**
 * Validates a configuration and fills in the defaults. Throws {@link AuthConfigError}.
 */
export function resolveConfig(input: AuthConfig): ResolvedConfig {
  const parsed = configSchema.safeParse(input)
  if (!parsed.success) {
    const single = !Array.isArray(input?.auth0)
    throw new AuthConfigError(
      parsed.error.issues.map((issue) => {
        const path =
          single && issue.path[0] === 'auth0' ? ['auth0', ...issue.path.slice(2)] : issue.path
        return { path: path.join('.'), message: issue.message }
      }),
    )
  }
  const config = parsed.data
  const tenants = config.auth0.map((t): ResolvedTenant => {
    const issuer = t.issuer ?? `https://${(t.domain as string).toLowerCase()}/`
    return {
      issuer,
      jwksUri:
        t.jwksUri ??
        new URL('.well-known/jwks.json', issuer.endsWith('/') ? issuer : `${issuer}/`).href,
      audience: typeof t.audience === 'string' ? [t.audience] : t.audience,
      algorithms: (t.algorithms ?? ['RS256']) as AsymmetricAlgorithm[],
      clockToleranceSeconds: t.clockToleranceSeconds ?? 5,
      maxTokenAgeSeconds: t.maxTokenAgeSeconds ?? 86_400,
      requireAccessTokenType: t.requireAccessTokenType ?? false,
    }
  })
  const seen = new Set<string>()
  for (const [index, tenant] of tenants.entries()) {
    if (seen.has(tenant.issuer)) {
      const path = Array.isArray(input.auth0) ? `auth0.${index}.issuer` : 'auth0.issuer'
      throw new AuthConfigError([{ path, message: `issuer ${tenant.issuer} is configured twice` }])
    }
    seen.add(tenant.issuer)
  }
  return {
    tenants,
    claims: {
      canonicalUserId: config.claims?.canonicalUserId,
      email: config.claims?.email ?? 'email',
      emailVerified: config.claims?.emailVerified ?? 'email_verified',
      connection: config.claims?.connection,
    },
    jwks: {
      timeoutMs: config.jwks?.timeoutMs ?? 5_000,
      cacheMaxAgeMs: config.jwks?.cacheMaxAgeMs ?? 600_000,
      cooldownMs: config.jwks?.cooldownMs ?? 30_000,
      staleIfErrorMs: config.jwks?.staleIfErrorMs ?? 3_600_000,
    },
    maxTokenLength: config.maxTokenLength ?? 8_192,
    directory: config.directory as DirectoryConfig | undefined,
  }
}
