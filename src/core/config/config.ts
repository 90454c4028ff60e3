import { DEFAULTS } from '../defaults.js'
import type { DiscoveryConfig, ResolvedDiscovery } from '../discovery/config.js'
import { resolveDiscovery } from '../discovery/config.js'
import { type DpopConfig, type ResolvedDpop, resolveDpop } from '../dpop/config.js'
import type { AuthEventHook } from '../events.js'
import { resolveTokenSources, type TokenSourcesConfig } from '../http/config.js'
import type { TokenSources } from '../http/extract.js'
import {
  type ProtectedResourceConfig,
  type ResolvedProtectedResource,
  resolveProtectedResource,
} from '../http/resource-metadata.js'
import { type JwksConfig, type ResolvedJwks, resolveJwks } from '../jwks/config.js'
import type { LegacyConfig } from '../legacy.js'
import { keysAt, MINIMAL_CONFIG, unknownKey } from '../lib/config-hints.js'
import {
  type CacheConfig,
  type DirectoryConfig,
  type ResolvedCache,
  type ResolvedDirectory,
  resolveCache,
  resolveDirectory,
  resolveUserinfo,
  type UserinfoConfig,
} from '../resolve/config.js'
import type { UserCreatedHook } from '../resolve/resolve.js'
import { type ResolvedTrust, resolveTrust, type TrustConfig } from '../resolve/trust.js'
import {
  type ClaimsConfig,
  resolveClaims,
  resolveTenantVerification,
  type TenantVerification,
  type TenantVerifyConfig,
} from '../verify/config.js'
import { AuthConfigError } from './errors.js'
import { configSchema, resolverConfigSchema, tenantSchema } from './schema.js'

/** One Auth0 tenant (or custom domain) whose access tokens are accepted. */
export interface Auth0TenantConfig extends TenantVerifyConfig {
  /**
   * This tenant's trust policy. Replaces the top-level `trust` whole for this tenant's tokens
   * (fields are not merged): connection names are per tenant, so one tenant's trusted connection
   * never vouches for another tenant's users.
   */
  trust?: TrustConfig | undefined
}

/**
 * Chooses the tenant for a token's issuer at run time (per-customer custom domains, tenants added
 * without a restart): the tenant whose tokens carry `iss` exactly equal to `issuer`, or
 * `undefined` to refuse it. Asked with the unverified `iss` of a token that passed the shape
 * checks, at most once per issuer per `cache.tenants` max age (refusals for
 * `negativeMaxAgeMs`); concurrent tokens for one issuer share one call. A tenant whose issuer is not
 * `issuer` is a refusal.
 */
export type TenantResolver = (
  issuer: string,
) => Auth0TenantConfig | undefined | Promise<Auth0TenantConfig | undefined>

/** Configuration for `createAuth`. Validated once, when the instance is created. */
export interface AuthConfig {
  /**
   * The Auth0 tenant, or several tenants and custom domains, or a function that chooses the
   * tenant by issuer at run time ({@link TenantResolver}).
   */
  auth0: Auth0TenantConfig | readonly Auth0TenantConfig[] | TenantResolver
  /** The user directory that owns canonical user UUIDs. */
  directory?: DirectoryConfig | undefined
  /** Claim names. */
  claims?: ClaimsConfig | undefined
  /** Key set fetching and caching. */
  jwks?: JwksConfig | undefined
  /** Longest token accepted, in characters. Default 8 192. */
  maxTokenLength?: number | undefined
  /**
   * `auto` (default): RS256/384/512 signatures are checked with node:crypto where it exists (a
   * KeyObject made once per key from the key jose imported), claims still by jose; elsewhere, and
   * for every other algorithm, jose does everything. `jose`: always jose alone.
   */
  signatureCheck?: 'auto' | 'jose' | undefined
  /** Who may be linked to a canonical user by email. */
  trust?: TrustConfig | undefined
  /** The issuer+sub → canonical user cache, and the verification cache (`cache.tokens`). */
  cache?: CacheConfig | undefined
  /**
   * Read the email from Auth0 `/userinfo` (with the user's token) when the access token carries
   * none. Default off.
   */
  userinfo?: UserinfoConfig | undefined
  /** Where tokens are read from by `authenticate`. Default Bearer and `x-user-token`. */
  tokenSources?: TokenSourcesConfig | undefined
  /**
   * Runs when the directory reports it created the user on this request, before the request
   * proceeds; a throw fails the request. It may run again for the same user after a failure.
   */
  onUserCreated?: UserCreatedHook | undefined
  /**
   * Called with each `AuthEvent`: tokens verified or rejected, users resolved, directory calls,
   * key set fetches, circuit breaker changes. Events never carry a token or an email; what the
   * hook throws is ignored. For logs, metrics and traces.
   */
  onEvent?: AuthEventHook | undefined
  /** Tokens not issued by a configured Auth0 tenant go to this hook. */
  legacy?: LegacyConfig | undefined
  /** Home-realm discovery for `discoverAuthProvider` and the discover endpoint. */
  discovery?: DiscoveryConfig | undefined
  /**
   * This service as an OAuth protected resource (RFC 9728): the metadata document the adapters
   * serve, and a `resource_metadata` pointer to it in every `WWW-Authenticate` challenge.
   */
  protectedResource?: ProtectedResourceConfig | undefined
  /**
   * DPoP-bound access tokens (RFC 9449). Default `{ mode: 'allowed' }`: a token presented with
   * the `DPoP` scheme must come with a valid proof, and a bound token is never accepted as Bearer.
   */
  dpop?: DpopConfig | undefined
}

/** A tenant with every default filled in: how its tokens are verified, and whom it vouches for. */
export interface ResolvedTenant extends TenantVerification {
  readonly trust: ResolvedTrust
}

/** A tenant resolver with its answers checked: a resolved tenant for the issuer, or undefined. */
export type ResolvedTenantResolver = (issuer: string) => Promise<ResolvedTenant | undefined>

export interface ResolvedConfig {
  /** The tenants configured in advance (none when `auth0` is a function). */
  readonly tenants: readonly ResolvedTenant[]
  /** `auth0` as a function, its answers checked and resolved; undefined for a list. */
  readonly tenantResolver: ResolvedTenantResolver | undefined
  readonly jwks: ResolvedJwks
  readonly maxTokenLength: number
  readonly signatureCheck: 'auto' | 'jose'
  readonly directory: ResolvedDirectory | undefined
  readonly cache: ResolvedCache
  readonly userinfo: { readonly timeoutMs: number } | undefined
  readonly tokenSources: TokenSources
  readonly onUserCreated: UserCreatedHook | undefined
  readonly legacy: LegacyConfig | undefined
  readonly discovery: ResolvedDiscovery
  readonly onEvent: AuthEventHook | undefined
  readonly protectedResource: ResolvedProtectedResource | undefined
  /** Undefined when DPoP is disabled. */
  readonly dpop: ResolvedDpop | undefined
}

/**
 * Validates a configuration and fills in the defaults, each concern resolving its own part.
 * Throws {@link AuthConfigError}.
 */
export function resolveConfig(input: AuthConfig): ResolvedConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new AuthConfigError([
      { path: '', message: `expected a configuration object, for example ${MINIMAL_CONFIG}` },
    ])
  }
  if (typeof input.auth0 === 'function') return resolveWithResolver(input, input.auth0)
  const parsed = configSchema.safeParse(input)
  if (!parsed.success) throw configError(parsed.error.issues, !Array.isArray(input.auth0))
  const config = parsed.data
  const claims = resolveClaims(config.claims)
  const trust = resolveTrust(config.trust)
  const tenants = config.auth0.map((tenant) => resolveTenant(tenant, claims, trust))
  assertDistinctIssuers(tenants, Array.isArray(input.auth0))
  const first = config.auth0[0] as Auth0TenantConfig
  const options = resolveOptions(config)
  return {
    ...options,
    tenants,
    tenantResolver: undefined,
    discovery: resolveDiscovery(config.discovery, {
      origin:
        first.domain === undefined
          ? new URL((tenants[0] as ResolvedTenant).issuer).origin
          : `https://${first.domain.toLowerCase()}`,
      domain: first.domain,
    }),
    protectedResource: resolveProtectedResource(
      config.protectedResource,
      tenants.map((tenant) => tenant.issuer),
      options.dpop,
    ),
  }
}

/** A configuration whose `auth0` is a function: no tenant until a token names one. */
function resolveWithResolver(input: AuthConfig, resolver: TenantResolver): ResolvedConfig {
  const parsed = resolverConfigSchema.safeParse(input)
  if (!parsed.success) throw configError(parsed.error.issues, false)
  const config = parsed.data
  const claims = resolveClaims(config.claims)
  const trust = resolveTrust(config.trust)
  const options = resolveOptions(config)
  return {
    ...options,
    tenants: [],
    tenantResolver: async (issuer) => {
      const answer = await resolver(issuer)
      if (answer === undefined || answer === null) return undefined
      const checked = tenantSchema.safeParse(answer)
      if (!checked.success) {
        throw configError(
          checked.error.issues.map((issue) => ({
            ...issue,
            path: ['auth0(issuer)', ...issue.path],
          })),
          false,
        )
      }
      const tenant = resolveTenant(checked.data, claims, trust)
      // Exactly the issuer asked for: a tenant for another issuer vouches for nothing here.
      return tenant.issuer === issuer ? tenant : undefined
    },
    // Home-realm discovery has no tenant to take the Management API's domain, /authorize or
    // WebFinger from: the schema refused what would need one.
    discovery: resolveDiscovery(config.discovery, {
      origin: 'https://tenant.invalid',
      domain: undefined,
    }),
    protectedResource: resolveProtectedResource(
      config.protectedResource,
      [],
      resolveDpop(config.dpop),
    ),
  }
}

/** A tenant with the defaults filled in: the top-level claims and trust unless it has its own. */
function resolveTenant(
  tenant: Auth0TenantConfig,
  claims: ReturnType<typeof resolveClaims>,
  trust: ResolvedTrust,
): ResolvedTenant {
  return {
    ...resolveTenantVerification(tenant, claims),
    // A tenant's own trust replaces the top-level one whole, never field by field.
    trust: tenant.trust === undefined ? trust : resolveTrust(tenant.trust),
  }
}

/** Everything but the tenants, discovery and protected resource, with the defaults filled in. */
function resolveOptions(
  config: Omit<AuthConfig, 'auth0'>,
): Omit<ResolvedConfig, 'tenants' | 'tenantResolver' | 'discovery' | 'protectedResource'> {
  return {
    jwks: resolveJwks(config.jwks),
    maxTokenLength: config.maxTokenLength ?? DEFAULTS.maxTokenLength,
    signatureCheck: config.signatureCheck ?? DEFAULTS.signatureCheck,
    directory: resolveDirectory(config.directory),
    cache: resolveCache(config.cache),
    userinfo: resolveUserinfo(config.userinfo),
    tokenSources: resolveTokenSources(config.tokenSources),
    onUserCreated: config.onUserCreated,
    onEvent: config.onEvent,
    legacy: config.legacy,
    dpop: resolveDpop(config.dpop),
  }
}

/** The schema's issues as an {@link AuthConfigError}, unknown keys with the key meant. */
function configError(
  issues: readonly import('zod').core.$ZodIssue[],
  singleTenant: boolean,
): AuthConfigError {
  return new AuthConfigError(
    issues.flatMap((issue) => {
      // A single tenant was made a list of one: its errors name `auth0.x`, not `auth0.0.x`.
      const path =
        singleTenant && issue.path[0] === 'auth0' ? ['auth0', ...issue.path.slice(2)] : issue.path
      if (issue.code !== 'unrecognized_keys')
        return [{ path: path.join('.'), message: issue.message }]
      const known = keysAt(configSchema as never, issue.path)
      return issue.keys.map((key) => ({ path: path.join('.'), message: unknownKey(key, known) }))
    }),
  )
}

function assertDistinctIssuers(tenants: readonly ResolvedTenant[], list: boolean): void {
  const seen = new Set<string>()
  for (const [index, tenant] of tenants.entries()) {
    if (seen.has(tenant.issuer)) {
      const path = list ? `auth0.${index}.issuer` : 'auth0.issuer'
      throw new AuthConfigError([{ path, message: `issuer ${tenant.issuer} is configured twice` }])
    }
    seen.add(tenant.issuer)
  }
}
