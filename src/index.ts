export { type Auth, createAuth } from './core/auth.js'
export type {
  AsymmetricAlgorithm,
  Auth0TenantConfig,
  AuthConfig,
  ClaimsConfig,
  DirectoryConfig,
  JwksConfig,
} from './core/config.js'
export { AuthConfigError } from './core/config.js'
export type { AuthErrorCode, AuthErrorOptions, AuthErrorStatus } from './core/errors.js'
export { AuthError, isAuthError } from './core/errors.js'
export { verifyAuth0Token } from './core/shared.js'
export type { VerifiedToken } from './core/types.js'
