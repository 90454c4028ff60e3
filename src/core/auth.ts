import { LRUCache } from 'lru-cache'
import {
  AUTHENTICATE_NOW,
  type AuthenticateRequest,
  type AuthenticatesNow,
  authenticateNow,
  authenticateRequest,
} from './authenticate.js'
import {
  type AuthConfig,
  type ResolvedConfig,
  type ResolvedTenant,
  resolveConfig,
} from './config/config.js'
import { Discoverer, type Discovery } from './discovery/discoverer.js'
import { DPOP_CHALLENGE, DpopGate, type HasDpopChallenge } from './dpop/gate.js'
import { AuthError, withResourceMetadata } from './errors.js'
import { codeOf, type Emit, emitterFor } from './events.js'
import {
  type HasProtectedResource,
  type HasTokenAudience,
  PROTECTED_RESOURCE,
  TOKEN_AUDIENCE,
} from './http/resource-metadata.js'
import type { ResolvedJwks } from './jwks/config.js'
import { IssuerMetadata } from './jwks/issuer-metadata.js'
import { RemoteKeySet } from './jwks/key-set.js'
import type { WaitUntil } from './lib/flights.js'
import { CircuitBreaker } from './resolve/circuit-breaker.js'
import { createHttpDirectory, type HttpDirectoryOptions } from './resolve/directory.js'
import { type ResolverContext, resolveUser, resolveUserNow } from './resolve/resolve.js'
import { UserCache } from './resolve/user-cache.js'
import { UserinfoClient } from './resolve/userinfo.js'
import type { AuthContext, CanonicalUser, VerifiedToken } from './types.js'
import { VerifiedRegistry } from './verified-registry.js'
import type { TenantVerification } from './verify/config.js'
import { IssuerResolver } from './verify/issuer-resolver.js'
import { issuerSniffer } from './verify/issuer-sniff.js'
import { VerifiedTokenCache } from './verify/token-cache.js'
import {
  cachedVerification,
  type DecodedToken,
  decodeToken,
  type IssuerEntry,
  type IssuerLookup,
  issuerEntry,
  type VerifierContext,
  verifyDecodedNow,
  verifyToken,
} from './verify/verify.js'

/**
 * An authenticator: the shared state (key set caches, HTTP clients) behind every call.
 * Create one per process with {@link createAuth} and reuse it.
 */
export interface Auth {
  /**
   * Verifies an Auth0 access token: signature against the tenant's key set, `iss`, `aud`, `exp`,
   * `nbf`, `iat` and the stricter checks canonical-auth adds. Machine-to-machine tokens verify too.
   * A token bound to a DPoP key (`cnf.jkt`) is refused unless `dpop.mode` is `'disabled'`: only
   * {@link Auth.authenticate} (or an adapter's `requireAuth`), which checks its proof, accepts it.
   *
   * @throws {@link AuthError} `token_invalid`, `token_expired` or `jwks_unavailable`.
   * @example
   * ```ts
   * const token = await auth.verifyAuth0Token(bearer)
   * token.subject // 'samlp|acme-waad|x1', an Auth0 id, never a user id
   * ```
   */
  verifyAuth0Token(token: string): Promise<VerifiedToken>
  /**
   * Resolves a token from {@link Auth.verifyAuth0Token} to the canonical user: the canonical-id
   * claim when it holds a UUID, else the cache, else the directory (get-or-create in `ensure`
   * mode, so a first-time SSO user works on the first call). The id is never the Auth0 sub.
   *
   * @throws {@link AuthError} `identity_untrusted` (unverified email on an untrusted connection,
   *   machine token, unusable email), `user_not_provisioned` (`lookup` mode), or
   *   `directory_unavailable` (502: down, slow, 5xx or a malformed answer; never a guess).
   * @example
   * ```ts
   * const user = await auth.resolveCanonicalUser(await auth.verifyAuth0Token(token))
   * user.id // '6f9619ff-8b86-4011-b42d-00c04fc964ff'
   * ```
   */
  resolveCanonicalUser(verified: VerifiedToken): Promise<CanonicalUser>
  /**
   * Reads the token from the request headers (`Authorization: Bearer` or `X-User-Token`, or
   * `Authorization: DPoP` with its `DPoP` proof), verifies it and resolves the canonical user.
   * Tokens from other issuers go to the `legacy` hook when one is configured. A DPoP request needs
   * `method` and `url`.
   *
   * @throws {@link AuthError} `token_missing`, `invalid_request`, those of the two steps, and for
   *   DPoP `invalid_dpop_proof`, `use_dpop_nonce` and `replay_store_unavailable`.
   * @example
   * ```ts
   * const { userId } = await auth.authenticate({ headers: req.headers })
   * ```
   */
  authenticate(request: AuthenticateRequest): Promise<AuthContext>
  /**
   * How an email logs in, from its domain: the static `discovery.domains` map, then any configured
   * resolver, Management API and WebFinger sources, in `discovery.order`. Never asks the user
   * directory, so the answer does not depend on whether the user exists.
   *
   * @throws {@link AuthError} `invalid_request` (not one valid address) or `discovery_unavailable`
   *   (502: a source is down and no fresh-enough answer is cached).
   * @example
   * ```ts
   * const { method, authorizationUrl } = await auth.discoverAuthProvider('ada@acme.com')
   * if (method === 'sso') redirect(authorizationUrl)
   * ```
   */
  discoverAuthProvider(email: string): Promise<Discovery>
  /** Stops in-flight fetches and drops cached keys. Calls after `close()` fail. */
  close(): Promise<void>
}

/**
 * How an instance obtains the key set of a tenant (by `keySetId`: its key set URL, or its issuer
 * when the URL comes from the issuer's metadata); the top-level functions share theirs.
 */
export type KeySetSource = (tenant: TenantVerification, jwks: ResolvedJwks) => RemoteKeySet

/**
 * Creates an {@link Auth} from a configuration, validated at once: a bad configuration throws
 * {@link AuthConfigError} naming the field.
 *
 * @example
 * ```ts
 * const auth = createAuth({
 *   auth0: { domain: 'tenant.eu.auth0.com', audience: 'https://api.example.com' },
 *   directory: { baseUrl: 'http://users.internal:8080' },
 * })
 * const verified = await auth.verifyAuth0Token(token)
 * ```
 */
export function createAuth(config: AuthConfig): Auth {
  return createAuthWith(resolveConfig(config))
}

/**
 * An {@link Auth} for a resolved configuration: the wiring of each step's state, nothing more.
 * Each step reports its own events as they happen.
 *
 * @internal
 */
export function createAuthWith(config: ResolvedConfig, keySetSource?: KeySetSource): Auth {
  const emit = emitterFor(config.onEvent)
  const keySets = provisionKeySets(config, keySetSource, emit)
  // A verified token's user cache key is made as it is verified and kept with it.
  const registry = new VerifiedRegistry<ResolvedTenant>((verified) =>
    UserCache.key(verified.issuer, verified.subject),
  )
  const tokenCache =
    config.cache.tokens === undefined ? undefined : new VerifiedTokenCache(config.cache.tokens)
  const tenantResolver = resolverOf(config, keySetSource, emit)
  const verifier: VerifierContext = {
    maxTokenLength: config.maxTokenLength,
    issuers: new Map(
      config.tenants.map((tenant): [string, IssuerEntry] => [
        tenant.issuer,
        issuerEntry(tenant, keySets.get(keySetId(tenant)) as RemoteKeySet),
      ]),
    ),
    resolver: tenantResolver,
    tokenCache,
    registry,
    fastSignatures: config.signatureCheck === 'auto',
    emit,
  }
  const userCache = new UserCache(config.cache, emit)
  const resolver = resolverFor(config, registry, userCache, emit)
  const discoverer = new Discoverer(config.discovery)
  const dpop =
    config.dpop === undefined ? undefined : new DpopGate(config.dpop, config.maxTokenLength, emit)
  const steps = {
    tokenSources: dpop === undefined ? config.tokenSources : { ...config.tokenSources, dpop: true },
    dpop,
    maxTokenLength: config.maxTokenLength,
    legacy: config.legacy,
    emit,
    cached: (token: string) => cachedVerification(token, verifier),
    decode: (token: string) => decodeToken(token, verifier),
    claimsIssuer: claimsIssuerOf(config, tenantResolver),
    verify: (token: string, decoded: DecodedToken, waitUntil: WaitUntil | undefined) =>
      verifyDecodedNow(token, decoded, verifier, waitUntil),
    resolve: (verified: VerifiedToken, waitUntil: WaitUntil | undefined) =>
      resolveUserNow(verified, resolver, waitUntil),
  }

  // Outside a request there is no proof: a token bound to a DPoP key is not accepted as it is.
  const bearerOnly =
    dpop === undefined
      ? undefined
      : (verified: VerifiedToken): VerifiedToken => {
          try {
            dpop.assertBearer(verified)
          } catch (error) {
            emit({ type: 'token.rejected', code: codeOf(error) })
            throw error
          }
          return verified
        }
  let closed = false
  const whileOpen = () => {
    if (closed) throw closedError()
  }
  const metadataUrl = config.protectedResource?.metadataUrl
  const pointed =
    metadataUrl === undefined
      ? undefined
      : (error: unknown) => Promise.reject(withResourceMetadata(error, metadataUrl))
  const auth: Auth & AuthenticatesNow & HasProtectedResource & HasTokenAudience & HasDpopChallenge =
    {
      verifyAuth0Token(token) {
        try {
          whileOpen()
          const verified = verifyToken(token, verifier)
          return bearerOnly === undefined ? verified : verified.then(bearerOnly)
        } catch (error) {
          return Promise.reject(error)
        }
      },
      resolveCanonicalUser(verified) {
        if (closed) return Promise.reject(closedError())
        return resolveUser(verified, resolver)
      },
      authenticate(request) {
        if (closed) return Promise.reject(closedError())
        try {
          const context = authenticateRequest(request, steps)
          // A refusal points to the protected resource metadata, when there is some (RFC 9728 §5.1).
          return pointed === undefined ? context : context.catch(pointed)
        } catch (error) {
          return pointed === undefined ? Promise.reject(error) : pointed(error)
        }
      },
      async discoverAuthProvider(email) {
        whileOpen()
        return discoverer.discover(email)
      },
      async close() {
        closed = true
        tokenCache?.clear()
        userCache.clear()
        keySets.close()
        tenantResolver?.close()
        dpop?.close()
      },
      [AUTHENTICATE_NOW](request) {
        whileOpen()
        return authenticateNow(request, steps)
      },
      [PROTECTED_RESOURCE]: config.protectedResource,
      [DPOP_CHALLENGE]: dpop?.challenges.dpop,
      [TOKEN_AUDIENCE](verified) {
        const audiences = registry.tenantOf(verified)?.audience
        return audiences?.find((audience) => verified.audience.includes(audience))
      },
    }
  return auth
}

/**
 * One key set per key set URL (tenants may share one), each fetch reported as a `jwks.fetch`
 * event; `close` stops what this instance owns and its observers of shared ones.
 */
function provisionKeySets(
  config: ResolvedConfig,
  source: KeySetSource | undefined,
  emit: Emit,
): { get(id: string): RemoteKeySet | undefined; close(): void } {
  const byId = new Map<string, RemoteKeySet>()
  const owned: RemoteKeySet[] = []
  const unobserve: (() => void)[] = []
  for (const tenant of config.tenants) {
    const id = keySetId(tenant)
    if (byId.has(id)) continue
    const { keySet, stop } = reportedKeySet(tenant, config, source, emit)
    if (source === undefined) owned.push(keySet)
    byId.set(id, keySet)
    unobserve.push(stop)
  }
  return {
    get: (id) => byId.get(id),
    close() {
      for (const stop of unobserve) stop()
      for (const keySet of owned) keySet.close()
    },
  }
}

/**
 * Whether a token names a configured issuer, or one a tenant resolver chose, anywhere and however
 * malformed: such a token never reaches the legacy hook.
 */
function claimsIssuerOf(
  config: ResolvedConfig,
  tenants: TenantLookup | undefined,
): (token: string) => boolean {
  const configured = issuerSniffer(config.tenants.map((tenant) => tenant.issuer))
  if (tenants === undefined) return configured
  return (token) => configured(token) || tenants.claimsIssuer(token)
}

/** The tenants of `auth0` as a function, as verification and legacy routing use them. */
interface TenantLookup extends IssuerLookup {
  /** Whether a token names, anywhere and however malformed, an issuer the resolver chose. */
  claimsIssuer(token: string): boolean
  close(): void
}

/**
 * The tenants of `auth0` as a function. Key sets are kept apart from the tenants, by key set URL
 * (or issuer, for a key set found through metadata), in an LRU of their own: a tenant asked again
 * finds its key set with its kept copy, backoff and events as they were.
 */
function resolverOf(
  config: ResolvedConfig,
  source: KeySetSource | undefined,
  emit: Emit,
): TenantLookup | undefined {
  const resolve = config.tenantResolver
  if (resolve === undefined) return undefined
  const keySets = new LRUCache<string, { keySet: RemoteKeySet; stop(): void }>({
    max: config.cache.tenants.max * 2,
    // Unobserved, not closed: a tenant still kept may hold it, and nothing else does.
    dispose: (kept) => kept.stop(),
  })
  const keySetFor = (tenant: ResolvedTenant): RemoteKeySet => {
    const id = keySetId(tenant)
    let kept = keySets.get(id)
    if (kept === undefined) {
      kept = reportedKeySet(tenant, config, source, emit)
      keySets.set(id, kept)
    }
    return kept.keySet
  }
  const resolver = new IssuerResolver<ResolvedTenant, IssuerEntry>(
    resolve,
    (tenant) => issuerEntry(tenant, keySetFor(tenant)),
    { ...config.cache.tenants, staleIfErrorMs: config.jwks.staleIfErrorMs },
  )
  // The tenants kept now, searched for like the configured ones (rebuilt when they change).
  let sniffed: { version: number; sniff: (token: string) => boolean } | undefined
  return {
    known: (issuer) => resolver.known(issuer),
    lookup: (issuer) => resolver.lookup(issuer),
    claimsIssuer(token) {
      const { version, issuers } = resolver.issuers()
      if (sniffed?.version !== version) sniffed = { version, sniff: issuerSniffer(issuers) }
      return sniffed.sniff(token)
    },
    close() {
      for (const { keySet } of keySets.values()) {
        // Shared key sets (the top-level functions') are not this instance's to close.
        if (source === undefined) keySet.close()
      }
      keySets.clear()
    },
  }
}

/**
 * A tenant's key set (the shared one from `source`, or a new one), each of its fetches reported
 * as a `jwks.fetch` event until `stop`.
 */
function reportedKeySet(
  tenant: TenantVerification,
  config: ResolvedConfig,
  source: KeySetSource | undefined,
  emit: Emit,
): { keySet: RemoteKeySet; stop(): void } {
  const keySet = source?.(tenant, config.jwks) ?? newKeySet(tenant, config.jwks)
  const stop = keySet.observe((outcome, durationMs, url) =>
    emit({ type: 'jwks.fetch', jwksUri: url, outcome, durationMs }),
  )
  return { keySet, stop }
}

/**
 * What identifies a tenant's key set: its URL, or, when the URL comes from the issuer's metadata,
 * the issuer (tenants that share either share one key set).
 */
export function keySetId(tenant: TenantVerification): string {
  return tenant.jwksUri ?? `metadata of ${tenant.issuer}`
}

/** A tenant's key set: at its URL, or where its issuer's metadata says. */
export function newKeySet(tenant: TenantVerification, jwks: ResolvedJwks): RemoteKeySet {
  return new RemoteKeySet(tenant.jwksUri ?? new IssuerMetadata(tenant.issuer, jwks), jwks)
}

function resolverFor(
  config: ResolvedConfig,
  registry: VerifiedRegistry<ResolvedTenant>,
  cache: UserCache,
  emit: Emit,
): ResolverContext {
  const { directory } = config
  return {
    directory:
      directory === undefined
        ? undefined
        : {
            client: directory.client ?? createHttpDirectory(directory.http as HttpDirectoryOptions),
            mode: directory.mode,
            deadlineMs: directory.deadlineMs,
          },
    registry,
    cache,
    userinfo:
      config.userinfo === undefined
        ? undefined
        : new UserinfoClient({
            timeoutMs: config.userinfo.timeoutMs,
            maxAgeMs: config.cache.maxAgeMs,
            max: config.cache.max,
          }),
    onUserCreated: config.onUserCreated,
    flightMs:
      (config.userinfo?.timeoutMs ?? 0) +
      (directory?.deadlineMs ?? 0) +
      config.cache.storeTimeoutMs,
    breaker:
      directory?.circuitBreaker === undefined
        ? undefined
        : new CircuitBreaker(directory.circuitBreaker, emit),
    emit,
  }
}

function closedError(): AuthError {
  return new AuthError('internal_error', 'This canonical-auth instance is closed')
}
