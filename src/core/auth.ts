import {
  type AuthConfig,
  type ResolvedConfig,
  type ResolvedTenant,
  resolveConfig,
} from './config.js'
import { AuthError } from './errors.js'
import { RemoteKeySet } from './key-set.js'
import type { VerifiedToken } from './types.js'
import { type IssuerEntry, type VerifierContext, verifyToken } from './verify.js'

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
    issuers.set(tenant.issuer, { tenant, keySet })
  }
  const context: VerifierContext = { config, issuers }
  let closed = false

  return {
    verifyAuth0Token(token) {
      if (closed) return Promise.reject(closedError())
      return verifyToken(token, context)
    },
    async close() {
      closed = true
      for (const keySet of owned) keySet.close()
    },
  }
}

function closedError(): AuthError {
  return new AuthError('internal_error', 'This canonical-auth instance is closed')
}
