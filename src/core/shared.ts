import { LRUCache } from 'lru-cache'
import { type Auth, createAuthWith } from './auth.js'
import { type AuthConfig, resolveConfig } from './config.js'
import type { Discovery } from './discovery.js'
import { RemoteKeySet } from './key-set.js'
import type { CanonicalUser, VerifiedToken } from './types.js'

// The top-level functions take a config on every call. They keep one Auth per distinct config and
// one key set per JWKS URL, so a loop of calls shares caches exactly as one instance would.
const instances = new LRUCache<string, Auth>({ max: 64 })
const keySets = new LRUCache<string, RemoteKeySet>({ max: 64 })
const identities = new WeakMap<object, number>()
let nextIdentity = 0

function identity(value: object): number {
  let id = identities.get(value)
  if (id === undefined) {
    id = nextIdentity++
    identities.set(value, id)
  }
  return id
}

// Plain data is compared by value; functions and class instances (hooks, a UserDirectory) by identity.
function fingerprint(config: AuthConfig): string {
  return JSON.stringify(config, (_key, value: unknown) => {
    if (typeof value === 'function') return `ƒ${identity(value)}`
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return `@${identity(value)}`
    }
    return value
  })
}

/** The shared {@link Auth} for a config, created on first use. */
export function sharedAuth(config: AuthConfig): Auth {
  const key = fingerprint(config)
  let auth = instances.get(key)
  if (auth === undefined) {
    auth = createAuthWith(resolveConfig(config), (tenant, resolved) => {
      const setKey = `${tenant.jwksUri}\n${JSON.stringify(resolved.jwks)}`
      let keySet = keySets.get(setKey)
      if (keySet === undefined) {
        keySet = new RemoteKeySet(tenant.jwksUri, resolved.jwks)
        keySets.set(setKey, keySet)
      }
      return keySet
    })
    instances.set(key, auth)
  }
  return auth
}

/**
 * Verifies an Auth0 access token with a configuration given on the call. Calls with equal
 * configurations share one key set cache per issuer, so this is as fast in a loop as an instance
 * from {@link createAuth}.
 *
 * @throws {@link AuthError} `token_invalid`, `token_expired` or `jwks_unavailable`;
 *   {@link AuthConfigError} for a bad configuration.
 * @example
 * ```ts
 * const verified = await verifyAuth0Token(token, {
 *   auth0: { domain: 'tenant.eu.auth0.com', audience: 'https://api.example.com' },
 * })
 * ```
 */
export function verifyAuth0Token(token: string, config: AuthConfig): Promise<VerifiedToken> {
  return sharedAuth(config).verifyAuth0Token(token)
}

/**
 * Resolves a verified token to its canonical user with a configuration given on the call. Calls
 * with equal configurations share one user cache, so this is as cheap in a loop as an instance.
 *
 * @throws {@link AuthError} as {@link Auth.resolveCanonicalUser}.
 * @example
 * ```ts
 * const user = await resolveCanonicalUser(await verifyAuth0Token(token, config), config)
 * ```
 */
export function resolveCanonicalUser(
  verified: VerifiedToken,
  config: AuthConfig,
): Promise<CanonicalUser> {
  return sharedAuth(config).resolveCanonicalUser(verified)
}

/**
 * Discovers how an email logs in with a configuration given on the call; equal configurations
 * share their discovery caches.
 *
 * @throws {@link AuthError} as {@link Auth.discoverAuthProvider}.
 * @example
 * ```ts
 * const discovery = await discoverAuthProvider('ada@acme.com', config)
 * ```
 */
export function discoverAuthProvider(email: string, config: AuthConfig): Promise<Discovery> {
  return sharedAuth(config).discoverAuthProvider(email)
}
