export { type Auth, createAuth } from './core/auth.js'
export type { AuthenticateRequest } from './core/authenticate.js'
export type { Auth0TenantConfig, AuthConfig, TenantResolver } from './core/config/config.js'
export { AuthConfigError } from './core/config/errors.js'
export type {
  DiscoveryConfig,
  DiscoveryResolver,
  DiscoverySource,
  DomainRule,
} from './core/discovery/config.js'
export type { Discovery } from './core/discovery/discoverer.js'
export type {
  DpopAlgorithm,
  DpopConfig,
  DpopNonceConfig,
  DpopReplayConfig,
  DpopReplayStore,
} from './core/dpop/config.js'
export type {
  AuthErrorCode,
  AuthErrorOptions,
  AuthErrorStatus,
  DpopChallenge,
} from './core/errors.js'
export { AuthError, isAuthError } from './core/errors.js'
export type { AuthEvent, AuthEventHook } from './core/events.js'
export { errorAnswer, type HttpAnswer } from './core/http/answer.js'
export type { ClaimRules, ClaimValue } from './core/http/claim-rules.js'
export type { TokenSourcesConfig } from './core/http/config.js'
export {
  type DiscoverHandlerOptions,
  type DiscoverRequest,
  handleDiscoverRequest,
  type RateLimitDecision,
  type RateLimitHook,
} from './core/http/discover.js'
export type { HeadersInput } from './core/http/extract.js'
export {
  type ProtectedResourceConfig,
  type ProtectedResourceMetadata,
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
} from './core/http/resource-metadata.js'
export type { JwksConfig } from './core/jwks/config.js'
export type { LegacyConfig, LegacyIdentity } from './core/legacy.js'
export { CONSUMER_DOMAINS } from './core/lib/consumer-domains.js'
export { type CanonicalEmail, canonicalizeEmail } from './core/lib/email.js'
export type { WaitUntil } from './core/lib/flights.js'
export type {
  CacheConfig,
  CircuitBreakerConfig,
  CustomDirectoryConfig,
  DirectoryConfig,
  HttpDirectoryConfig,
  UserinfoConfig,
} from './core/resolve/config.js'
export type {
  DirectoryCallOptions,
  DirectoryHeaders,
  DirectoryIdentity,
  DirectoryUser,
  UserDirectory,
} from './core/resolve/directory.js'
export type { UserCreatedHook } from './core/resolve/resolve.js'
export type { LinkIdentity, TrustConfig, TrustHook } from './core/resolve/trust.js'
export type { CachedUser, UserCacheStore } from './core/resolve/user-cache.js'
export { TokenCheckError } from './core/token-check-error.js'
export { discoverAuthProvider, resolveCanonicalUser, verifyAuth0Token } from './core/top-level.js'
export type {
  AuthContext,
  CanonicalUser,
  DpopBinding,
  TokenClaims,
  VerifiedToken,
} from './core/types.js'
export { UpstreamError } from './core/upstream/client.js'
export type { AsymmetricAlgorithm, ClaimsConfig } from './core/verify/config.js'
