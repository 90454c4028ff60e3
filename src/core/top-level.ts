import { LRUCache } from 'lru-cache'
import { type Auth, createAuthWith, keySetId, newKeySet } from './auth.js'
import { type AuthConfig, resolveConfig } from './config/config.js'
import type { Discovery } from './discovery/discoverer.js'
import type { RemoteKeySet } from './jwks/key-set.js'
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

// Plain data (plain objects, arrays, primitives) is compared by value, every own key included,
// enumerable or not; anything else (functions, class instances such as a UserDirectory, a store
// with its own toJSON) by identity. JSON.stringify would call toJSON and skip non-enumerable keys,
// so two configurations that differ could share one instance and its trust.
function fingerprint(config: AuthConfig): string {
  const parts: string[] = []
  const seen = new Set<object>()
  const walk = (value: unknown): void => {
    if (value === null || typeof value !== 'object') {
      parts.push(
        typeof value === 'function'
          ? `f${identity(value)}`
          : typeof value === 'string'
            ? JSON.stringify(value)
            : `${typeof value}:${String(value)}`,
      )
      return
    }
    const proto = Object.getPrototypeOf(value)
    const plain = Array.isArray(value) || proto === Object.prototype || proto === null
    if (!plain || seen.has(value)) {
      parts.push(`@${identity(value)}`)
      return
    }
    seen.add(value)
    parts.push(Array.isArray(value) ? '[' : '{')
    for (const key of Reflect.ownKeys(value)) {
      parts.push(typeof key === 'symbol' ? key.toString() : JSON.stringify(key))
      walk(Reflect.get(value, key))
    }
    parts.push(Array.isArray(value) ? ']' : '}')
    seen.delete(value)
  }
  walk(config)
  return parts.join(',')
}

/** The shared {@link Auth} for a config, created on first use. */
export function instanceFor(config: AuthConfig): Auth {
  const key = fingerprint(config)
  let auth = instances.get(key)
  if (auth === undefined) {
    auth = createAuthWith(resolveConfig(config), (tenant, jwks) => {
      const setKey = `${keySetId(tenant)}\n${JSON.stringify(jwks)}`
      let keySet = keySets.get(setKey)
      if (keySet === undefined) {
        keySet = newKeySet(tenant, jwks)
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
  return instanceFor(config).verifyAuth0Token(token)
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
  return instanceFor(config).resolveCanonicalUser(verified)
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
  return instanceFor(config).discoverAuthProvider(email)
}
