// What an adapter needs of the core, and nothing more: an adapter imports from here (and its own
// framework's types) only, so that a new one is a translation of requests and answers.
export type { Auth } from '../auth.js'
export { isAuthError } from '../errors.js'
export type { WaitUntil } from '../lib/flights.js'
export type { AuthContext } from '../types.js'
export { errorAnswer, type HttpAnswer } from './answer.js'
export type { ClaimRules, ClaimValue } from './claim-rules.js'
export {
  type DiscoverHandlerOptions,
  handleDiscoverRequest,
  notJsonAnswer,
  type RateLimitDecision,
  type RateLimitHook,
} from './discover.js'
export {
  createGuard,
  type GuardRequest,
  type RequireAuthOptions,
  type ScopeRequirement,
} from './guard.js'
export { setRequestAuth } from './request-auth.js'
export { bodyChunks } from './request-body.js'
export { requestUrl } from './request-url.js'
export {
  configuredAudienceOf,
  metadataAnswer,
  type ProtectedResourceMetadata,
  protectedResourceOf,
  requireProtectedResource,
} from './resource-metadata.js'
