export { type Auth, createAuth } from './core/auth.js'
export type { AuthenticateRequest } from './core/authenticate.js'
export type {
  AsymmetricAlgorithm,
  Auth0TenantConfig,
  AuthConfig,
  CacheConfig,
  CircuitBreakerConfig,
  ClaimsConfig,
  CustomDirectoryConfig,
  DirectoryConfig,
  HttpDirectoryConfig,
  JwksConfig,
  LegacyConfig,
  LegacyIdentity,
  LinkIdentity,
  TokenSourcesConfig,
  TrustConfig,
  TrustHook,
} from './core/config.js'
export { AuthConfigError } from './core/config.js'
export { CONSUMER_DOMAINS } from './core/consumer-domains.js'
export type {
  DirectoryCallOptions,
  DirectoryHeaders,
  DirectoryIdentity,
  DirectoryUser,
  UserDirectory,
} from './core/directory.js'
export {
  type DiscoverRequest,
  handleDiscoverRequest,
} from './core/discover-handler.js'
export type { Discovery } from './core/discovery.js'
export type {
  DiscoveryConfig,
  DiscoveryResolver,
  DiscoverySource,
  DomainRule,
  RateLimitDecision,
  RateLimitHook,
} from './core/discovery-config.js'
export { type CanonicalEmail, canonicalizeEmail } from './core/email.js'
export type { AuthErrorCode, AuthErrorOptions, AuthErrorStatus } from './core/errors.js'
export { AuthError, isAuthError } from './core/errors.js'
export type { AuthEvent, AuthEventHook } from './core/events.js'
export type { HeadersInput } from './core/extract.js'
export type { UserCreatedHook } from './core/resolve.js'
export { errorAnswer, type HttpAnswer } from './core/respond.js'
export { discoverAuthProvider, resolveCanonicalUser, verifyAuth0Token } from './core/shared.js'
export { TokenCheckError } from './core/token-check-error.js'
export type { AuthContext, CanonicalUser, VerifiedToken } from './core/types.js'
export { UpstreamError } from './core/upstream.js'
export type { CachedUser, UserCacheStore } from './core/user-cache.js'
