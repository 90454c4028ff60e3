import {
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
  type ProtectedHeaderParameters,
  UnsecuredJWT,
} from 'jose'
import type { ResolvedClaims, ResolvedConfig, ResolvedTenant } from '../config/config.js'
import { AuthError, isAuthError } from '../errors.js'
import { hasCandidates, verifyWithCandidates } from '../jwks/candidate-keys.js'
import type { RemoteKeySet } from '../jwks/key-set.js'
import { connectionFromSubject } from '../lib/connection.js'
import { isUuid } from '../lib/uuid.js'
import { isJoseError, TokenCheckError } from '../token-check-error.js'
import type { VerifiedToken } from '../types.js'
import type { VerifiedRegistry } from '../verified-registry.js'
import {
  asUnsecured,
  canCheckFast,
  checkSignatureFast,
  decodeSegment,
  decodeStrictSegment,
} from './fast-signature.js'
import type { VerifiedTokenCache } from './token-cache.js'
import { assertCompactJws } from './token-shape.js'

/** A configured issuer with the key set its tokens are verified against. */
export interface IssuerEntry {
  readonly tenant: ResolvedTenant
  readonly keySet: RemoteKeySet
  /** The jose options for this tenant, built once. */
  readonly options: JWTVerifyOptions
}

/** The jose verification options for a tenant. */
export function verifyOptionsFor(tenant: ResolvedTenant): JWTVerifyOptions {
  return {
    algorithms: tenant.algorithms as string[],
    issuer: tenant.issuer,
    audience: tenant.audience as string[],
    clockTolerance: tenant.clockToleranceSeconds,
    maxTokenAge: tenant.maxTokenAgeSeconds,
    requiredClaims: ['exp', 'iat', 'sub'],
    ...(tenant.requireAccessTokenType ? { typ: 'at+jwt' } : {}),
  }
}

/** A token decoded (not yet trusted) and matched to the configured issuer it names. */
export interface ReadToken {
  readonly header: ProtectedHeaderParameters
  readonly entry: IssuerEntry
}

/** What the verifier needs, prepared once per instance. */
export interface VerifierContext {
  readonly config: ResolvedConfig
  readonly issuers: ReadonlyMap<string, IssuerEntry>
  readonly tokenCache: VerifiedTokenCache | undefined
  /** The tokens this instance verified, for resolution to accept. */
  readonly registry: VerifiedRegistry
  /** Check RS* signatures with node:crypto where available (claims still through jose). */
  readonly fastSignatures: boolean
}

// Header parameters that would let a token choose its own verification key. The key set comes from
// configuration only, so a token carrying any of them is refused outright.
const KEY_CHOOSING_HEADERS = ['jku', 'jwk', 'x5u', 'x5c'] as const

/**
 * Verifies an Auth0 access token against the configured tenants. Rejects with {@link AuthError}:
 * `token_invalid`, `token_expired` or `jwks_unavailable`.
 *
 * Not an `async` function on purpose: a token whose key is already imported is verified without
 * a single `await`, and the returned promise is already settled.
 */
export function verifyToken(token: unknown, context: VerifierContext): Promise<VerifiedToken> {
  const cached = cachedVerification(token, context)
  return cached === undefined ? verifyUncached(token, context) : Promise.resolve(cached)
}

/** {@link verifyToken} without asking the verification cache (the caller already did). */
export function verifyUncached(token: unknown, context: VerifierContext): Promise<VerifiedToken> {
  try {
    assertCompactJws(token, context.config.maxTokenLength)
    return verifyRead(token, matchIssuer(token, context), context)
  } catch (error) {
    return Promise.reject(error)
  }
}

/**
 * Decodes a token and finds its configured issuer; otherwise the `token_invalid` error saying why
 * it is not a well-formed JWT of a configured issuer (`authenticate` hands such tokens to the
 * legacy hook, or answers with that error). The result goes to {@link verifyRead}, so the token is
 * decoded once.
 */
export function readToken(token: string, context: VerifierContext): ReadToken | AuthError {
  try {
    assertCompactJws(token, context.config.maxTokenLength)
    return matchIssuer(token, context)
  } catch (error) {
    return isAuthError(error) ? error : new AuthError('token_invalid')
  }
}

/** The token's header and configured issuer; throws `token_invalid` when it names none. */
function matchIssuer(token: string, context: VerifierContext): ReadToken {
  const { header, payload } = decodeUnverified(token)
  const entry = typeof payload.iss === 'string' ? context.issuers.get(payload.iss) : undefined
  if (entry === undefined) {
    throw new AuthError('token_invalid', 'The token was not issued by a configured issuer')
  }
  return { header, entry }
}

/**
 * Verifies a token already read by {@link readToken}: signature, claims, and the extra checks.
 * With the fast path and a key jose has already selected, this settles synchronously.
 */
export function verifyRead(
  token: string,
  read: ReadToken,
  context: VerifierContext,
): Promise<VerifiedToken> {
  const { header, entry } = read
  try {
    assertHeader(header, entry.tenant)
    const fast = fastPathFor(header, context)
    const key = fast ? entry.keySet.selectedKey(header) : undefined
    const payload = key === undefined ? undefined : verifyWithKey(token, header, key, entry.options)
    if (payload !== undefined) return Promise.resolve(accept(token, payload, entry, context))
    return verifyAwaitingKey(token, header, entry, context, fast)
  } catch (error) {
    return Promise.reject(toAuthError(error))
  }
}

/** The path that waits: the key set must be fetched or jose must select and import the key. */
async function verifyAwaitingKey(
  token: string,
  header: ProtectedHeaderParameters,
  entry: IssuerEntry,
  context: VerifierContext,
  fast: boolean,
): Promise<VerifiedToken> {
  const { keySet, options } = entry
  let payload: JWTPayload
  try {
    payload =
      (fast ? verifyWithKey(token, header, await keySet.getKey(header), options) : undefined) ??
      (await jwtVerify(token, keySet.getKey, options)).payload
  } catch (error) {
    if (!hasCandidates(error)) throw toAuthError(error)
    // Several keys match the header: both engines try each with jose.
    payload = await verifyWithCandidates(token, error, options).catch((failure: unknown) => {
      throw toAuthError(failure)
    })
  }
  return accept(token, payload, entry, context)
}

/** A verified payload, checked further, made a VerifiedToken and remembered. */
function accept(
  token: string,
  payload: JWTPayload,
  entry: IssuerEntry,
  context: VerifierContext,
): VerifiedToken {
  assertClaimTypes(payload)
  const result = toVerifiedToken(payload, entry.tenant.claims)
  context.registry.add(result, { token, tenant: entry.tenant })
  context.tokenCache?.set(token, result, entry.tenant)
  return result
}

/** The cached verification of exactly this token, while it is still valid. */
export function cachedVerification(
  token: unknown,
  context: VerifierContext,
): VerifiedToken | undefined {
  if (context.tokenCache === undefined || typeof token !== 'string') return undefined
  if (token.length > context.config.maxTokenLength) return undefined
  return context.tokenCache.get(token)
}

function fastPathFor(header: ProtectedHeaderParameters, context: VerifierContext): boolean {
  return context.fastSignatures && header.crit === undefined && canCheckFast(header.alg)
}

/**
 * The signature checked by node:crypto against the key jose selected, then the claims by jose
 * itself (`UnsecuredJWT.decode` runs the checks `jwtVerify` runs). `undefined` hands the token to
 * the full jose path.
 */
function verifyWithKey(
  token: string,
  header: ProtectedHeaderParameters,
  key: unknown,
  options: JWTVerifyOptions,
): JWTPayload | undefined {
  const valid = checkSignatureFast(token, header.alg as string, key)
  if (valid === undefined) return undefined
  if (!valid) throw new AuthError('token_invalid', 'The token signature is invalid')
  const typ = typeof header.typ === 'string' ? header.typ : undefined
  return UnsecuredJWT.decode(asUnsecured(token, typ), options).payload
}

/**
 * Decodes header and payload of a token `assertCompactJws` accepted, without trusting them; each
 * must be a JSON object. Throws `token_invalid`.
 */
export function decodeUnverified(token: string): {
  header: ProtectedHeaderParameters
  payload: JWTPayload
} {
  const firstDot = token.indexOf('.')
  const secondDot = token.indexOf('.', firstDot + 1)
  let header: unknown
  let payload: unknown
  try {
    header = parseHeader(token, firstDot)
    payload = JSON.parse(decodeSegment(token.slice(firstDot + 1, secondDot)))
  } catch {
    // No cause: a JSON.parse error quotes the text it failed on, which is the token's content.
    throw notJson()
  }
  if (!isJsonObject(header) || !isJsonObject(payload)) throw notJson()
  return { header: header as ProtectedHeaderParameters, payload: payload as JWTPayload }
}

// A tenant's tokens share a handful of header segments (alg, kid, typ), so their parse is kept:
// by the exact encoded segment, frozen, at most HEADER_CACHE_SIZE, emptied when full so that a
// flood of odd headers cannot keep the real ones out for long.
const HEADER_CACHE_SIZE = 64
const headers = new Map<string, unknown>()

function parseHeader(token: string, firstDot: number): unknown {
  const segment = token.slice(0, firstDot)
  let header = headers.get(segment)
  if (header === undefined) {
    header = Object.freeze(JSON.parse(decodeStrictSegment(segment)))
    if (headers.size >= HEADER_CACHE_SIZE) headers.clear()
    headers.set(segment, header)
  }
  return header
}

function notJson(): AuthError {
  return new AuthError(
    'token_invalid',
    'The access token is not a well-formed JWT: its header or payload is not a JSON object',
  )
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function assertHeader(header: ProtectedHeaderParameters, tenant: ResolvedTenant): void {
  if (
    typeof header.alg !== 'string' ||
    !(tenant.algorithms as readonly string[]).includes(header.alg)
  ) {
    throw new AuthError('token_invalid', 'The token signature algorithm is not accepted')
  }
  for (const name of KEY_CHOOSING_HEADERS) {
    if (name in header) {
      throw new AuthError('token_invalid', `The token header must not carry "${name}"`)
    }
  }
}

// The last second a Date can hold and a NumericDate can sensibly name: 9999-12-31T23:59:59Z.
const LATEST_NUMERIC_DATE = 253_402_300_799
// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

// jose accepts an `exp` of 1e400 (Infinity after JSON.parse) or 1e300 (an Invalid Date), and a
// non-string `sub`.
function assertClaimTypes(payload: JWTPayload): void {
  for (const name of ['exp', 'iat', 'nbf'] as const) {
    const value = payload[name]
    if (value !== undefined && !(value >= 0 && value <= LATEST_NUMERIC_DATE)) {
      throw new AuthError('token_invalid', `The token's "${name}" claim is not a valid date`)
    }
  }
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
    throw new AuthError('token_invalid', `The token's "sub" claim is not a non-empty string`)
  }
  if (CONTROL.test(payload.sub)) {
    throw new AuthError('token_invalid', `The token's "sub" claim contains control characters`)
  }
}

const JOSE_MESSAGES: Record<string, string> = {
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'The token signature is invalid',
  ERR_JOSE_ALG_NOT_ALLOWED: 'The token signature algorithm is not accepted',
  ERR_JWKS_NO_MATCHING_KEY: 'The token was signed with an unknown key',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'The token does not name its signing key',
  ERR_JOSE_NOT_SUPPORTED: 'The token uses an unsupported feature',
}

/**
 * Maps a failure of `jwtVerify` to an {@link AuthError} whose message carries no token content.
 * jose's own error is not kept: its enumerable `payload` holds the token's claims (email, sub), and
 * whatever logs the cause would print them. A {@link TokenCheckError} with jose's code, the claim
 * and the reason takes its place.
 */
function toAuthError(error: unknown): AuthError {
  if (isAuthError(error)) return error
  if (!isJoseError(error)) return new AuthError('internal_error', undefined, { cause: error })
  const { code } = error
  const cause = TokenCheckError.from(error)
  if (code === 'ERR_JWT_EXPIRED') return new AuthError('token_expired', undefined, { cause })
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    return new AuthError('token_invalid', `The token's "${cause.claim}" claim is invalid`, {
      cause,
    })
  }
  const message = JOSE_MESSAGES[code] ?? 'The access token is malformed'
  return new AuthError('token_invalid', message, { cause })
}

function toVerifiedToken(payload: JWTPayload, claims: ResolvedClaims): VerifiedToken {
  const subject = payload.sub as string
  const email = payload[claims.email]
  const emailVerified = payload[claims.emailVerified]
  const connection =
    claims.connection === undefined ? connectionFromSubject(subject) : payload[claims.connection]
  const canonicalUserId =
    claims.canonicalUserId === undefined ? undefined : payload[claims.canonicalUserId]
  // Frozen, arrays included: with the verification cache one object serves every request that
  // presents this token, so no handler may change what the next one sees.
  return Object.freeze({
    subject,
    issuer: payload.iss as string,
    audience: Object.freeze(typeof payload.aud === 'string' ? [payload.aud] : strings(payload.aud)),
    expiresAt: new ReadonlyDate((payload.exp as number) * 1000),
    ...(typeof email === 'string' ? { email } : {}),
    ...(typeof emailVerified === 'boolean' ? { emailVerified } : {}),
    ...(typeof connection === 'string' && connection !== '' ? { connection } : {}),
    ...(isUuid(canonicalUserId) ? { canonicalUserId: canonicalUserId.toLowerCase() } : {}),
    scopes: Object.freeze(
      typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
    ),
    permissions: Object.freeze(strings(payload.permissions)),
    claims: deepFreeze(payload),
  })
}

/**
 * A Date whose setters throw: a cached VerifiedToken, `expiresAt` included, is shared by every
 * request that presents the token, so none may move another's expiry.
 */
class ReadonlyDate extends Date {}
for (const name of Object.getOwnPropertyNames(Date.prototype)) {
  if (!name.startsWith('set')) continue
  Object.defineProperty(ReadonlyDate.prototype, name, {
    value() {
      throw new TypeError('VerifiedToken.expiresAt is read-only')
    },
  })
}

/** Freezes a parsed JSON value all the way down (its size is bounded by the token size cap). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

function strings(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : []
}
