import { type AuthenticateRequest, authenticateRequest } from './authenticate.js'
import {
  type AuthConfig,
  type ResolvedConfig,
  type ResolvedTenant,
  resolveConfig,
} from './config/config.js'
import type { RateLimitHook } from './discovery/config.js'
import { Discoverer, type Discovery } from './discovery/discoverer.js'
import { AuthError } from './errors.js'
import { codeOf, emitterFor, reportResolution, reportVerification } from './events.js'
import { RemoteKeySet } from './jwks/key-set.js'
import { CircuitBreaker } from './resolve/circuit-breaker.js'
import { createHttpDirectory } from './resolve/directory.js'
import { type ResolverContext, resolveUser } from './resolve/resolve.js'
import { UserCache } from './resolve/user-cache.js'
import { UserinfoClient } from './resolve/userinfo.js'
import type { AuthContext, CanonicalUser, VerifiedToken } from './types.js'
import { VerifiedRegistry } from './verified-registry.js'
import { issuerSniffer } from './verify/issuer-sniff.js'
import { VerifiedTokenCache } from './verify/token-cache.js'
import {
  cachedVerification,
  type IssuerEntry,
  type ReadToken,
  readToken,
  type VerifierContext,
  verifyOptionsFor,
  verifyRead,
  verifyToken,
  verifyUncached,
} from './verify/verify.js'

/**
 * An authenticator: the shared state (key set caches, HTTP clients) behind every call.
 * Create one per process with {@link createAuth} and reuse it.
 */
export interface Auth {
  /**
   * Verifies an Auth0 access token: signature against the tenant's key set, `iss`, `aud`, `exp`,
   * `nbf`, `iat` and the stricter checks canonical-auth adds. Machine-to-machine tokens verify too.
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
   * Reads the token from the request headers (`Authorization: Bearer` or `X-User-Token`),
   * verifies it and resolves the canonical user. Tokens from other issuers go to the `legacy`
   * hook when one is configured.
   *
   * @throws {@link AuthError} `token_missing`, `invalid_request`, and those of the two steps.
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

/** How an instance obtains the key set for a URL; the top-level functions share one registry. */
export type KeySetSource = (tenant: ResolvedTenant, config: ResolvedConfig) => RemoteKeySet

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

/** @internal */
export function createAuthWith(config: ResolvedConfig, keySetSource?: KeySetSource): Auth {
  const owned: RemoteKeySet[] = []
  const byUri = new Map<string, RemoteKeySet>()
  const issuers = new Map<string, IssuerEntry>()
  for (const tenant of config.tenants) {
    let keySet = byUri.get(tenant.jwksUri)
    if (keySet === undefined) {
      if (keySetSource === undefined) {
        keySet = new RemoteKeySet(tenant.jwksUri, config.jwks)
        owned.push(keySet)
      } else {
        keySet = keySetSource(tenant, config)
      }
      byUri.set(tenant.jwksUri, keySet)
    }
    issuers.set(tenant.issuer, { tenant, keySet, options: verifyOptionsFor(tenant) })
  }
  const tokenCache =
    config.cache.tokens === undefined ? undefined : new VerifiedTokenCache(config.cache.tokens)
  const registry = new VerifiedRegistry()
  const context: VerifierContext = {
    config,
    issuers,
    tokenCache,
    registry,
    fastSignatures: config.signatureCheck === 'auto',
  }
  const emit = emitterFor(config.onEvent)
  const cache = new UserCache({ ...config.cache }, emit)
  const directory = config.directory
  const unobserve =
    emit === undefined
      ? []
      : [...byUri].map(([jwksUri, keySet]) =>
          keySet.observe((outcome, durationMs) =>
            emit({ type: 'jwks.fetch', jwksUri, outcome, durationMs }),
          ),
        )
  const resolver: ResolverContext = {
    directory:
      directory?.client ??
      (directory?.http === undefined ? undefined : createHttpDirectory(directory.http)),
    mode: directory?.mode ?? 'ensure',
    deadlineMs: directory?.deadlineMs ?? 5_000,
    registry,
    cache,
    userinfo:
      config.userinfo === undefined
        ? undefined
        : new UserinfoClient({
            timeoutMs: config.userinfo.timeoutMs,
            ttlMs: config.cache.ttlMs,
            max: config.cache.max,
          }),
    onUserCreated: config.onUserCreated,
    breaker:
      directory?.circuitBreaker === undefined
        ? undefined
        : new CircuitBreaker(directory.circuitBreaker, emit),
    emit,
  }
  const discoverer = new Discoverer(config.discovery)
  let closed = false
  const open = () => {
    if (closed) throw new AuthError('internal_error', 'This canonical-auth instance is closed')
  }
  // Errors already reported by a step, so that `authenticate` does not report them twice.
  const reported = new WeakSet<object>()
  const cached = (token: string) => {
    const hit = cachedVerification(token, context)
    if (hit !== undefined) emit?.({ type: 'token.verified', issuer: hit.issuer, cached: true })
    return hit
  }
  const verify = (token: string) => {
    open()
    if (emit === undefined) return verifyToken(token, context)
    const hit = cached(token)
    if (hit !== undefined) return Promise.resolve(hit)
    return reportVerification(verifyUncached(token, context), emit, reported)
  }
  const resolve = (verified: VerifiedToken) => {
    open()
    const resolution = resolveUser(verified, resolver)
    return emit === undefined ? resolution : reportResolution(resolution, emit, reported)
  }
  const steps = {
    tokenSources: config.tokenSources,
    maxTokenLength: config.maxTokenLength,
    legacy: config.legacy,
    cached,
    read: (token: string) => readToken(token, context),
    claimsIssuer: issuerSniffer(config.tenants.map((tenant) => tenant.issuer)),
    verify: (token: string, read: ReadToken) =>
      emit === undefined
        ? verifyRead(token, read, context)
        : reportVerification(verifyRead(token, read, context), emit, reported),
    resolve,
  }
  const authenticate = async (request: AuthenticateRequest) => {
    open()
    if (emit === undefined) return authenticateRequest(request, steps)
    try {
      const result = await authenticateRequest(request, steps)
      const { user } = result
      if (user.source === 'legacy') {
        emit({ type: 'user.resolved', userId: user.id, source: user.source, created: false })
      }
      return result
    } catch (error) {
      // Failures before verification (no token, a bad header, the legacy hook) are reported here.
      if (typeof error !== 'object' || error === null || !reported.has(error)) {
        emit({ type: 'token.rejected', code: codeOf(error) })
      }
      throw error
    }
  }

  const auth: Auth = {
    verifyAuth0Token: (token) => {
      try {
        return verify(token)
      } catch (error) {
        return Promise.reject(error)
      }
    },
    resolveCanonicalUser: async (verified) => resolve(verified),
    authenticate,
    async discoverAuthProvider(email) {
      open()
      return discoverer.discover(email)
    },
    async close() {
      closed = true
      tokenCache?.clear()
      cache.clear()
      for (const stop of unobserve) stop()
      for (const keySet of owned) keySet.close()
    },
  }
  internals.set(auth, { rateLimit: config.discovery.rateLimit })
  return auth
}

/** What core functions outside the instance need of it. */
export interface AuthInternals {
  readonly rateLimit: RateLimitHook | undefined
}

const internals = new WeakMap<Auth, AuthInternals>()

/** @internal */
export function internalsOf(auth: Auth): AuthInternals {
  const found = internals.get(auth)
  if (found === undefined) throw new TypeError('canonical-auth: expected an Auth from createAuth()')
  return found
}
