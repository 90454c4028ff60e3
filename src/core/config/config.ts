import {
  canonicalDomain,
  type DiscoveryConfig,
  type ResolvedDiscovery,
  resolveDiscovery,
} from '../discovery/config.js'
import type { AuthEventHook } from '../events.js'
import type { TokenSources } from '../http/extract.js'
import type { CircuitBreakerOptions } from '../resolve/circuit-breaker.js'
import type { DirectoryHeaders, HttpDirectoryOptions, UserDirectory } from '../resolve/directory.js'
import type { UserCreatedHook } from '../resolve/resolve.js'
import type { UserCacheStore } from '../resolve/user-cache.js'
import type { VerifiedToken } from '../types.js'
import { keysAt, MINIMAL_CONFIG, unknownKey } from './hints.js'
import { type ASYMMETRIC_ALGORITHMS, configSchema } from './schema.js'

export { ASYMMETRIC_ALGORITHMS } from './schema.js'

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
  /**
   * This tenant's claim names. Replaces the top-level `claims` whole for this tenant's tokens
   * (fields are not merged): a canonical-id claim is honoured only from tenants configured with it.
   */
  claims?: ClaimsConfig
  /**
   * This tenant's trust policy. Replaces the top-level `trust` whole for this tenant's tokens
   * (fields are not merged): connection names are per tenant, so one tenant's trusted connection
   * never vouches for another tenant's users.
   */
  trust?: TrustConfig
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
  /** Deadline of one key set request, its body included, in milliseconds. Default 5 000. */
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
  /**
   * `auto` (default): RS256/384/512 signatures are checked with node:crypto where it exists (a
   * KeyObject made once per key from the key jose imported), claims still by jose; elsewhere, and
   * for every other algorithm, jose does everything. `jose`: always jose alone.
   */
  signatureCheck?: 'auto' | 'jose'
  /** Who may be linked to a canonical user by email. */
  trust?: TrustConfig
  /** The issuer+sub → canonical user cache. */
  cache?: CacheConfig
  /**
   * Read the email from Auth0 `/userinfo` (with the user's token) when the access token carries
   * none. Default off.
   */
  userinfo?: boolean | { timeoutMs?: number }
  /** Where tokens are read from by `authenticate`. Default Bearer and `x-user-token`. */
  tokenSources?: TokenSourcesConfig
  /**
   * Runs when the directory reports it created the user on this request, before the request
   * proceeds; a throw fails the request. It may run again for the same user after a failure.
   */
  onUserCreated?: UserCreatedHook
  /**
   * Called with each {@link AuthEvent}: tokens verified or rejected, users resolved, directory
   * calls, key set fetches, circuit breaker changes. Events never carry a token or an email; what
   * the hook throws is ignored. For logs, metrics and traces.
   */
  onEvent?: AuthEventHook
  /** Tokens not issued by a configured Auth0 tenant go to this hook. */
  legacy?: LegacyConfig
  /** Home-realm discovery for `discoverAuthProvider` and the discover endpoint. */
  discovery?: DiscoveryConfig
}

/** The user directory: its HTTP endpoint, or any {@link UserDirectory}. */
export type DirectoryConfig = HttpDirectoryConfig | CustomDirectoryConfig

/** The user directory's HTTP endpoint (the wire contract). */
export interface HttpDirectoryConfig {
  /**
   * Base URL of the directory: `https:`, or `http:` for a loopback host (`localhost`,
   * `127.0.0.0/8`, `[::1]`) only, unless `allowInsecureHttp` is set.
   */
  baseUrl: string
  /**
   * Accept an `http:` base URL on a host that is not loopback. The directory's answers decide who
   * a user is and the service credential travels with each call, so set this only where the
   * network itself encrypts and authenticates traffic (a service mesh with mutual TLS). Default
   * false.
   */
  allowInsecureHttp?: boolean
  /** `ensure` (get-or-create, default) or `lookup` (read-only: a missing user is `user_not_provisioned`). */
  mode?: 'ensure' | 'lookup'
  /** Headers sent with each call, e.g. the service credential; or a function returning them per call. */
  headers?: DirectoryHeaders
  /** Timeout of one attempt, in milliseconds. Default 3 000. */
  timeoutMs?: number
  /** Overall deadline for a resolution, retries included, in milliseconds. Default 5 000. */
  deadlineMs?: number
  /** Retries after the first attempt (network errors, 408, 429, 5xx; `Retry-After` honoured). Default 2. */
  retries?: number
  /** Path overrides. Defaults `/api/v1/users/ensure` and `/admin/user/{email}`. */
  paths?: { ensure?: string; lookup?: string }
  /**
   * The circuit breaker around the directory: after `failureThreshold` calls in a row that found
   * it out (no answer, a 5xx, 408/429 after retries; never an answer about one user) (default 5)
   * calls are refused at once with `directory_unavailable` and `Retry-After` for
   * `resetTimeoutMs` (default 10 000), then one probe call decides. `false` turns it off.
   */
  circuitBreaker?: CircuitBreakerConfig | false
}

/** Your own implementation of the directory calls. */
export interface CustomDirectoryConfig {
  client: UserDirectory
  /** `ensure` (default) or `lookup`. */
  mode?: 'ensure' | 'lookup'
  /** Overall deadline for a resolution, in milliseconds. Default 5 000. */
  deadlineMs?: number
  /**
   * The circuit breaker around the directory: after `failureThreshold` calls in a row that found
   * it out (no answer, a 5xx, 408/429 after retries; never an answer about one user) (default 5)
   * calls are refused at once with `directory_unavailable` and `Retry-After` for
   * `resetTimeoutMs` (default 10 000), then one probe call decides. `false` turns it off.
   */
  circuitBreaker?: CircuitBreakerConfig | false
}

/** Settings of the directory circuit breaker. */
export interface CircuitBreakerConfig {
  /** Consecutive calls that found the directory out that open the circuit. Default 5. */
  failureThreshold?: number
  /** How long it stays open before one probe call is let through, in milliseconds. Default 10 000. */
  resetTimeoutMs?: number
}

/**
 * The policy for linking an identity to a canonical user by email. An email is linked when the
 * token says it is verified (`email_verified: true`), or when the token comes from a trusted
 * enterprise connection and the email's domain is one that connection owns. `allow`, when given,
 * may then refuse.
 */
export interface TrustConfig {
  /**
   * Enterprise connections, each with the email domains its identity provider owns, e.g.
   * `{ 'acme-waad': ['acme.com', 'acme.co.uk'] }`. An email at one of those domains, from that
   * connection, is linked even when it is not marked verified; any other email needs
   * `email_verified: true`. Domains match exactly (list subdomains too). The connection is read
   * from `claims.connection`, or from an enterprise sub (`samlp|acme-waad|…`, `waad|…`, …), never
   * from a social or database one. Default none.
   */
  trustedConnections?: Readonly<Record<string, readonly string[]>>
  /**
   * Runs before the directory is asked to link an email (in `ensure` and `lookup` mode), after the
   * checks above passed; `false` refuses with `identity_untrusted` (403), and an {@link AuthError}
   * it throws is answered as is. Use it to admit only some domains or connections. It does not run
   * for the canonical-id claim, legacy tokens or users already in the cache (`cache.ttlMs`).
   */
  allow?: TrustHook
}

/** What {@link TrustConfig.allow} is asked about: an identity about to be linked by email. */
export interface LinkIdentity {
  /** The canonical email (see `canonicalizeEmail`). */
  readonly email: string
  /** Its domain, in ASCII. */
  readonly domain: string
  /** Whether the token (or `/userinfo`) marked the email verified. */
  readonly emailVerified: boolean
  /** The connection, when known. */
  readonly connection: string | undefined
  /** Whether a trusted connection vouched for the email's domain. */
  readonly trustedConnection: boolean
}

/** Decides whether an identity may be linked by email; see {@link TrustConfig.allow}. */
export type TrustHook = (identity: LinkIdentity, token: VerifiedToken) => boolean | Promise<boolean>

/** The issuer+sub → canonical user cache. */
export interface CacheConfig {
  /** How long a resolved user is reused, in milliseconds. Default 300 000 (5 min). */
  ttlMs?: number
  /** Most users kept in memory. Default 10 000. */
  max?: number
  /** How long a read-only lookup miss is remembered, in milliseconds (0: never). Default 10 000. */
  negativeTtlMs?: number
  /** A store shared between replicas (e.g. Redis), behind the in-memory cache. */
  store?: UserCacheStore
  /** A store call slower than this counts as a miss, in milliseconds. Default 200. */
  storeTimeoutMs?: number
  /**
   * Verification results by exact token, so a token presented again skips the signature check:
   * never used past the token's `exp` or `ttlMs` after it was verified. `false` turns it off.
   * Default `{ max: 10_000, ttlMs: 60_000 }`.
   */
  tokens?: false | { max?: number; ttlMs?: number }
}

/** Where `authenticate` reads the token. */
export interface TokenSourcesConfig {
  /** `Authorization: Bearer <token>`. Default true. */
  bearer?: boolean
  /** Headers carrying a bare token. Default `['x-user-token']`. */
  headers?: readonly string[]
}

/** What a legacy verifier answers for a token it accepts. */
export interface LegacyIdentity {
  /** The canonical user UUID the legacy token carries. */
  userId: string
  email?: string
}

/** Verification of tokens issued before Auth0 (they already carry a canonical UUID). */
export interface LegacyConfig {
  /**
   * Verifies a token that no configured Auth0 tenant issued. Returns the identity, or `null` to
   * refuse it (`token_invalid`). Throwing an {@link AuthError} answers with it; any other throw
   * is `token_invalid`.
   */
  verify(token: string): LegacyIdentity | null | Promise<LegacyIdentity | null>
}

/** Claim names, defaults filled in. */
export interface ResolvedClaims {
  readonly canonicalUserId: string | undefined
  readonly email: string
  readonly emailVerified: string
  readonly connection: string | undefined
}

/** A trust policy, domains canonicalised. */
export interface ResolvedTrust {
  /** Connection → the email domains it owns. */
  readonly connections: ReadonlyMap<string, ReadonlySet<string>>
  readonly allow: TrustHook | undefined
}

export interface ResolvedTenant {
  readonly issuer: string
  readonly jwksUri: string
  readonly audience: readonly string[]
  readonly algorithms: readonly AsymmetricAlgorithm[]
  readonly clockToleranceSeconds: number
  readonly maxTokenAgeSeconds: number
  readonly requireAccessTokenType: boolean
  readonly claims: ResolvedClaims
  readonly trust: ResolvedTrust
}

export interface ResolvedConfig {
  readonly tenants: readonly ResolvedTenant[]
  readonly jwks: Required<JwksConfig>
  readonly maxTokenLength: number
  readonly signatureCheck: 'auto' | 'jose'
  readonly directory: ResolvedDirectory | undefined
  readonly cache: Required<Omit<CacheConfig, 'store' | 'tokens'>> & {
    readonly store: UserCacheStore | undefined
    readonly tokens: { readonly max: number; readonly ttlMs: number } | undefined
  }
  readonly userinfo: { readonly timeoutMs: number } | undefined
  readonly tokenSources: TokenSources
  readonly onUserCreated: UserCreatedHook | undefined
  readonly legacy: LegacyConfig | undefined
  readonly discovery: ResolvedDiscovery
  readonly onEvent: AuthEventHook | undefined
}

export interface ResolvedDirectory {
  readonly mode: 'ensure' | 'lookup'
  readonly deadlineMs: number
  /** The HTTP settings, or undefined for a custom client. */
  readonly http: HttpDirectoryOptions | undefined
  readonly client: UserDirectory | undefined
  /** undefined: the breaker is off. */
  readonly circuitBreaker: CircuitBreakerOptions | undefined
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

/**
 * Validates a configuration and fills in the defaults. Throws {@link AuthConfigError}.
 */
export function resolveConfig(input: AuthConfig): ResolvedConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new AuthConfigError([
      { path: '', message: `expected a configuration object, for example ${MINIMAL_CONFIG}` },
    ])
  }
  const parsed = configSchema.safeParse(input)
  if (!parsed.success) {
    const single = !Array.isArray(input?.auth0)
    throw new AuthConfigError(
      parsed.error.issues.flatMap((issue) => {
        const path =
          single && issue.path[0] === 'auth0' ? ['auth0', ...issue.path.slice(2)] : issue.path
        if (issue.code !== 'unrecognized_keys')
          return [{ path: path.join('.'), message: issue.message }]
        // One entry per unknown key, with the key it was probably meant to be.
        const known = keysAt(configSchema as never, issue.path)
        return issue.keys.map((key) => ({ path: path.join('.'), message: unknownKey(key, known) }))
      }),
    )
  }
  const config = parsed.data
  const claims = resolveClaims(config.claims as ClaimsConfig | undefined)
  const trust = resolveTrust(config.trust as TrustConfig | undefined)
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
      // A tenant's own claims or trust replace the top-level ones whole, never field by field.
      claims: t.claims === undefined ? claims : resolveClaims(t.claims as ClaimsConfig),
      trust: t.trust === undefined ? trust : resolveTrust(t.trust as TrustConfig),
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
  const first = config.auth0[0] as (typeof config.auth0)[number]
  const discovery = resolveDiscovery(config.discovery as DiscoveryConfig | undefined, {
    origin:
      first.domain === undefined
        ? new URL(tenants[0]?.issuer as string).origin
        : `https://${first.domain.toLowerCase()}`,
    domain: first.domain,
  })
  if (discovery.issues.length > 0) throw new AuthConfigError(discovery.issues)
  return {
    tenants,
    jwks: {
      timeoutMs: config.jwks?.timeoutMs ?? 5_000,
      cacheMaxAgeMs: config.jwks?.cacheMaxAgeMs ?? 600_000,
      cooldownMs: config.jwks?.cooldownMs ?? 30_000,
      staleIfErrorMs: config.jwks?.staleIfErrorMs ?? 3_600_000,
    },
    maxTokenLength: config.maxTokenLength ?? 8_192,
    signatureCheck: config.signatureCheck ?? 'auto',
    directory: resolveDirectory(config.directory as DirectoryConfig | undefined),
    cache: {
      ttlMs: config.cache?.ttlMs ?? 300_000,
      max: config.cache?.max ?? 10_000,
      negativeTtlMs: config.cache?.negativeTtlMs ?? 10_000,
      storeTimeoutMs: config.cache?.storeTimeoutMs ?? 200,
      store: config.cache?.store as UserCacheStore | undefined,
      tokens:
        config.cache?.tokens === false
          ? undefined
          : {
              max: config.cache?.tokens?.max ?? 10_000,
              ttlMs: config.cache?.tokens?.ttlMs ?? 60_000,
            },
    },
    userinfo:
      config.userinfo === undefined || config.userinfo === false
        ? undefined
        : {
            timeoutMs: (config.userinfo === true ? undefined : config.userinfo.timeoutMs) ?? 3_000,
          },
    tokenSources: {
      bearer: config.tokenSources?.bearer ?? true,
      headers: (config.tokenSources?.headers ?? ['x-user-token']).map((name) => name.toLowerCase()),
    },
    onUserCreated: config.onUserCreated as UserCreatedHook | undefined,
    onEvent: config.onEvent as AuthEventHook | undefined,
    legacy: config.legacy as LegacyConfig | undefined,
    discovery: discovery.value,
  }
}

function resolveClaims(claims: ClaimsConfig | undefined): ResolvedClaims {
  return {
    canonicalUserId: claims?.canonicalUserId,
    email: claims?.email ?? 'email',
    emailVerified: claims?.emailVerified ?? 'email_verified',
    connection: claims?.connection,
  }
}

// The schema has checked every domain canonicalises; here they take their canonical spelling.
function resolveTrust(trust: TrustConfig | undefined): ResolvedTrust {
  const connections = new Map<string, ReadonlySet<string>>()
  for (const [connection, domains] of Object.entries(trust?.trustedConnections ?? {})) {
    connections.set(connection, new Set(domains.map((domain) => canonicalDomain(domain) as string)))
  }
  return { connections, allow: trust?.allow }
}

function resolveDirectory(directory: DirectoryConfig | undefined): ResolvedDirectory | undefined {
  if (directory === undefined) return undefined
  const mode = directory.mode ?? 'ensure'
  const deadlineMs = directory.deadlineMs ?? 5_000
  const circuitBreaker =
    directory.circuitBreaker === false
      ? undefined
      : {
          failureThreshold: directory.circuitBreaker?.failureThreshold ?? 5,
          resetTimeoutMs: directory.circuitBreaker?.resetTimeoutMs ?? 10_000,
        }
  if ('client' in directory) {
    return { mode, deadlineMs, http: undefined, client: directory.client, circuitBreaker }
  }
  return {
    mode,
    deadlineMs,
    circuitBreaker,
    client: undefined,
    http: {
      baseUrl: directory.baseUrl,
      headers: directory.headers,
      timeoutMs: directory.timeoutMs ?? 3_000,
      retries: directory.retries ?? 2,
      deadlineMs,
      paths: {
        ensure: directory.paths?.ensure ?? '/api/v1/users/ensure',
        lookup: directory.paths?.lookup ?? '/admin/user/{email}',
      },
    },
  }
}
