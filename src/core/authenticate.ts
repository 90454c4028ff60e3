import type { DpopGate } from './dpop/gate.js'
import { AuthError, isAuthError, withDpopChallenge } from './errors.js'
import { codeOf, type Emit } from './events.js'
import {
  extractCredentials,
  extractProof,
  type HeadersInput,
  plainToken,
  type TokenSources,
} from './http/extract.js'
import { authenticateLegacy, type LegacyConfig } from './legacy.js'
import type { WaitUntil } from './lib/flights.js'
import type { AuthContext, CanonicalUser, VerifiedToken } from './types.js'
import type { DecodedToken } from './verify/verify.js'

/** What `authenticate` reads from a request. */
export interface AuthenticateRequest {
  /** The request headers: a fetch `Headers`, or a plain object as Node frameworks give them. */
  readonly headers: HeadersInput
  /** The request method (`GET`, `POST`, …): what a DPoP proof's `htm` must be. */
  readonly method?: string | undefined
  /**
   * The absolute URL the client called, such as `https://api.example.com/reports?year=2026`
   * (or its path, when `dpop.origin` is configured): what a DPoP proof's `htu` must be, without
   * query and fragment. The adapters pass it when a request carries a proof.
   */
  readonly url?: string | undefined
  /**
   * The platform's way to keep work going after the answer (Cloudflare Workers'
   * `ctx.waitUntil`, Vercel's `waitUntil`): a key set refresh started in the background, or a
   * shared-cache delete, is handed to it. Without it, such work runs unowned, which a platform
   * that ends a request's work with the request may cut short (it is then redone later).
   */
  readonly waitUntil?: WaitUntil | undefined
}

export interface AuthenticateSteps {
  readonly tokenSources: TokenSources
  readonly maxTokenLength: number
  readonly legacy: LegacyConfig | undefined
  cached(token: string): VerifiedToken | undefined
  /**
   * The token decoded and matched to a configured issuer, or why not (then: legacy); a promise
   * while a tenant resolver is asked. A failure to find out (the resolver failing) is thrown or
   * rejected: a refusal, never the legacy hook's.
   */
  decode(token: string): DecodedToken | AuthError | Promise<DecodedToken | AuthError>
  /** Whether a token `decode` refused names a configured issuer anywhere, however malformed. */
  claimsIssuer(token: string): boolean
  /**
   * Verifies a decoded token, reporting the outcome itself; a token whose key is in memory is
   * verified at once (the result, or a refusal thrown).
   */
  verify(
    token: string,
    decoded: DecodedToken,
    waitUntil: WaitUntil | undefined,
  ): VerifiedToken | Promise<VerifiedToken>
  /** Resolves a verified token, reporting the outcome itself; a user in memory comes at once. */
  resolve(
    verified: VerifiedToken,
    waitUntil: WaitUntil | undefined,
  ): CanonicalUser | Promise<CanonicalUser>
  /** Reports what this step decides itself: a refusal before verification, a legacy user. */
  readonly emit: Emit
  /** The DPoP checks; undefined when DPoP is disabled. */
  readonly dpop: DpopGate | undefined
}

/**
 * Extract → verify → resolve. A token from a configured Auth0 issuer (by its unverified `iss`) is
 * verified and resolved; any other token goes to the legacy hook, or is `token_invalid`. A token
 * that names a configured issuer anywhere, read leniently, never reaches the hook.
 */
export function authenticateRequest(
  request: AuthenticateRequest,
  steps: AuthenticateSteps,
): Promise<AuthContext> {
  try {
    return Promise.resolve(authenticateNow(request, steps))
  } catch (error) {
    return Promise.reject(error)
  }
}

/**
 * The method of every `createAuth` instance that answers a request whose token and user are in
 * memory at once, with no promise (see {@link authenticateNow}); the adapters' guard uses it when
 * the instance has it. A symbol from the global registry, so that the ESM and CommonJS copies of
 * the package agree on it.
 */
export const AUTHENTICATE_NOW: unique symbol = Symbol.for('canonical-auth.authenticate-now')

/** What an instance with {@link AUTHENTICATE_NOW} offers. */
export interface AuthenticatesNow {
  [AUTHENTICATE_NOW](request: AuthenticateRequest): AuthContext | Promise<AuthContext>
}

/**
 * {@link authenticateRequest}, but answered at once, as the context itself, when the user is in
 * memory and so is the token's verification (then its syntax check, decoding and signature check
 * are skipped) or its key (then it is verified on the spot). A token in a plain header that passes
 * the shape check is taken as it is; any other request's headers are read in full. Awaits nothing;
 * anything else is a promise. May throw a refusal decided at once.
 */
export function authenticateNow(
  request: AuthenticateRequest,
  steps: AuthenticateSteps,
): AuthContext | Promise<AuthContext> {
  const plain = plainToken(request.headers, steps.tokenSources)
  if (plain === undefined) return authenticateToken(request, steps)
  if (steps.dpop?.required === true) throw refused(steps.dpop.bearerRefused(), steps)
  const cached = steps.cached(plain)
  if (cached !== undefined) return bearerContext(cached, steps, request.waitUntil)
  // A plain token that decodes is a canonical compact JWS, which the full read of the headers
  // would find just so: its regular expressions are for every other case.
  return whenDecoded(plain, steps, request.waitUntil, () => authenticateToken(request, steps))
}

/** The context for a verified token, at once when its user is in memory. */
function withUser(
  verified: VerifiedToken,
  steps: AuthenticateSteps,
  waitUntil: WaitUntil | undefined,
): AuthContext | Promise<AuthContext> {
  const user = steps.resolve(verified, waitUntil)
  if (user instanceof Promise) return user.then((found) => contextOf(found, verified))
  return contextOf(user, verified)
}

function contextOf(user: CanonicalUser, token: VerifiedToken): AuthContext {
  return { userId: user.id, user, token }
}

/** The context for a token presented as Bearer, which must not be bound to a DPoP key. */
function bearerContext(
  verified: VerifiedToken,
  steps: AuthenticateSteps,
  waitUntil: WaitUntil | undefined,
): AuthContext | Promise<AuthContext> {
  if (steps.dpop !== undefined) {
    try {
      steps.dpop.assertBearer(verified)
    } catch (error) {
      throw refused(error, steps)
    }
  }
  return withUser(verified, steps, waitUntil)
}

/**
 * The whole way: the token read and checked, decoded, verified, then resolved. Without a promise
 * when the token's key and its user are in memory; a refusal decided at once is thrown.
 */
function authenticateToken(
  request: AuthenticateRequest,
  steps: AuthenticateSteps,
): AuthContext | Promise<AuthContext> {
  let token: string
  let dpop: boolean
  try {
    ;({ token, dpop } = extractCredentials(request.headers, steps.tokenSources))
  } catch (error) {
    // Where DPoP is required, even a request without a token is told to use it.
    const gate = steps.dpop
    throw refused(gate?.required ? withDpopChallenge(error, gate.challenges.bearer) : error, steps)
  }
  if (dpop) return authenticateDpop(request, token, steps, steps.dpop as DpopGate)
  if (steps.dpop?.required === true) throw refused(steps.dpop.bearerRefused(), steps)
  if (token.length > steps.maxTokenLength) throw refused(tooLong(), steps)
  return whenDecoded(token, steps, request.waitUntil, (why) => authenticateOther(token, why, steps))
}

/**
 * The token decoded, then verified and resolved; a token that is not a configured issuer's goes to
 * `other` with the reason. At once when the decoding is (no tenant resolver to ask).
 */
function whenDecoded(
  token: string,
  steps: AuthenticateSteps,
  waitUntil: WaitUntil | undefined,
  other: (why: AuthError) => AuthContext | Promise<AuthContext>,
): AuthContext | Promise<AuthContext> {
  const decoded = decodeOrRefuse(token, steps)
  if (decoded instanceof Promise) {
    return decoded.then((found) =>
      isAuthError(found) ? other(found) : verifyAndResolve(token, found, steps, waitUntil),
    )
  }
  return isAuthError(decoded) ? other(decoded) : verifyAndResolve(token, decoded, steps, waitUntil)
}

/** {@link AuthenticateSteps.decode}, its failures reported as refusals (thrown, or rejected). */
function decodeOrRefuse(
  token: string,
  steps: AuthenticateSteps,
): DecodedToken | AuthError | Promise<DecodedToken | AuthError> {
  let decoded: DecodedToken | AuthError | Promise<DecodedToken | AuthError>
  try {
    decoded = steps.decode(token)
  } catch (error) {
    throw refused(error, steps)
  }
  if (!(decoded instanceof Promise)) return decoded
  return decoded.catch((error: unknown) => {
    throw refused(error, steps)
  })
}

/** A decoded token verified, then resolved. */
function verifyAndResolve(
  token: string,
  decoded: DecodedToken,
  steps: AuthenticateSteps,
  waitUntil: WaitUntil | undefined,
): AuthContext | Promise<AuthContext> {
  const verified = steps.verify(token, decoded, waitUntil)
  if (verified instanceof Promise) {
    return verified.then((found) => bearerContext(found, steps, waitUntil))
  }
  return bearerContext(verified, steps, waitUntil)
}

/**
 * A token presented with the DPoP scheme: its proof read, the token verified (never the legacy
 * hook's), the proof checked against it and the request, then the user resolved. Every refusal
 * carries the DPoP challenge.
 */
async function authenticateDpop(
  request: AuthenticateRequest,
  token: string,
  steps: AuthenticateSteps,
  gate: DpopGate,
): Promise<AuthContext> {
  try {
    let proof: string
    try {
      proof = extractProof(request.headers)
      if (token.length > steps.maxTokenLength) throw tooLong()
    } catch (error) {
      throw refused(error, steps)
    }
    let verified = steps.cached(token)
    if (verified === undefined) {
      const decoded = await decodeOrRefuse(token, steps)
      if (isAuthError(decoded)) throw refused(decoded, steps)
      verified = await steps.verify(token, decoded, request.waitUntil)
    }
    let dpop: AuthContext['dpop']
    try {
      dpop = await gate.check(proof, request, token, verified)
    } catch (error) {
      throw refused(error, steps)
    }
    const user = await steps.resolve(verified, request.waitUntil)
    return { userId: user.id, user, token: verified, dpop }
  } catch (error) {
    throw withDpopChallenge(error, gate.challenges.dpop)
  }
}

function tooLong(): AuthError {
  return new AuthError('token_invalid', 'The access token is too long')
}

/** A token that is not a configured issuer's JWT: the legacy hook's, or refused with why. */
async function authenticateOther(
  token: string,
  why: AuthError,
  steps: AuthenticateSteps,
): Promise<AuthContext> {
  // Without a legacy hook, the answer says why the token is not a configured issuer's JWT.
  if (steps.legacy === undefined) throw refused(why, steps)
  if (steps.claimsIssuer(token)) {
    throw refused(
      new AuthError(
        'token_invalid',
        'The token names a configured issuer but is not a well-formed token of it',
      ),
      steps,
    )
  }
  let context: AuthContext
  try {
    context = await authenticateLegacy(token, steps.legacy)
  } catch (error) {
    throw refused(error, steps)
  }
  const { user } = context
  steps.emit({ type: 'user.resolved', userId: user.id, source: user.source, created: false })
  return context
}

function refused(error: unknown, steps: AuthenticateSteps): unknown {
  steps.emit({ type: 'token.rejected', code: codeOf(error) })
  return error
}
