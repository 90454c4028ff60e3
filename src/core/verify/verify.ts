import { type JWSHeaderParameters, type JWTPayload, type JWTVerifyOptions, jwtVerify } from 'jose'
import { AuthError, isAuthError } from '../errors.js'
import { codeOf, type Emit } from '../events.js'
import { hasCandidates, verifyWithCandidates } from '../jwks/candidate-keys.js'
import type { RemoteKeySet } from '../jwks/key-set.js'
import type { WaitUntil } from '../lib/flights.js'
import type { VerifiedToken } from '../types.js'
import type { VerifiedRegistry } from '../verified-registry.js'
import { assertClaimTypes, assertHeader } from './checks.js'
import { type ClaimRules, checkClaims, claimRulesFor } from './claims.js'
import type { TenantVerification } from './config.js'
import { decodeUnverified, type UnverifiedParts } from './decode.js'
import { canCheckFast, checkSignatureFast } from './fast-signature.js'
import { toAuthError } from './jose-errors.js'
import type { VerifiedTokenCache } from './token-cache.js'
import { assertCompactJws } from './token-shape.js'
import { toVerifiedToken } from './verified-token.js'

/** A configured issuer with the key set its tokens are verified against. */
export interface IssuerEntry {
  readonly tenant: TenantVerification
  readonly keySet: RemoteKeySet
  /** The jose options for this tenant, built once. */
  readonly options: JWTVerifyOptions
  /** The same claim rules, for the checks made on a payload already decoded. */
  readonly rules: ClaimRules
}

/** A configured issuer's entry: its key set and its verification options, prepared once. */
export function issuerEntry(tenant: TenantVerification, keySet: RemoteKeySet): IssuerEntry {
  return { tenant, keySet, options: verifyOptionsFor(tenant), rules: claimRulesFor(tenant) }
}

/** The jose verification options for a tenant. */
export function verifyOptionsFor(tenant: TenantVerification): JWTVerifyOptions {
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
export interface DecodedToken extends UnverifiedParts {
  readonly entry: IssuerEntry
}

/** The tenants a resolver chose, by issuer (see `IssuerResolver`). */
export interface IssuerLookup {
  /** The entry, `null` for an issuer refused, `undefined` when {@link lookup} must ask. */
  known(issuer: string): IssuerEntry | null | undefined
  lookup(issuer: string): Promise<IssuerEntry | undefined>
}

/** What the verifier needs, prepared once per instance. */
export interface VerifierContext {
  readonly maxTokenLength: number
  readonly issuers: ReadonlyMap<string, IssuerEntry>
  /** The tenants of `auth0` as a function, asked by issuer; undefined for a list. */
  readonly resolver: IssuerLookup | undefined
  readonly tokenCache: VerifiedTokenCache | undefined
  /** The tokens this instance verified, for resolution to accept. */
  readonly registry: VerifiedRegistry<TenantVerification>
  /** Check RS* signatures with node:crypto where available (claims still through jose). */
  readonly fastSignatures: boolean
  /** Reports each verification where it ends: `token.verified` or `token.rejected`. */
  readonly emit: Emit
}

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
    assertCompactJws(token, context.maxTokenLength)
    const decoded = decodeToken(token, context)
    if (decoded instanceof Promise) {
      return decoded.then(
        (found) =>
          isAuthError(found) ? rejected(found, context) : verifyDecoded(token, found, context),
        (error: unknown) => rejected(error, context),
      )
    }
    if (isAuthError(decoded)) return rejected(decoded, context)
    return verifyDecoded(token, decoded, context)
  } catch (error) {
    return rejected(error, context)
  }
}

/**
 * Decodes a token and finds its configured issuer; otherwise the `token_invalid` error saying why
 * it is not a well-formed JWT of a configured issuer (`authenticate` hands such tokens to the
 * legacy hook, or answers with that error). The result goes to {@link verifyDecoded}, so the token
 * is decoded once. With a tenant resolver, an issuer not yet known is a promise; a resolver that
 * fails throws (or rejects with) its own refusal, which is never the legacy hook's to answer.
 */
export function decodeToken(
  token: string,
  context: VerifierContext,
): DecodedToken | AuthError | Promise<DecodedToken | AuthError> {
  let parts: UnverifiedParts
  try {
    assertCompactJws(token, context.maxTokenLength)
    parts = decodeUnverified(token)
  } catch (error) {
    return isAuthError(error) ? error : new AuthError('token_invalid')
  }
  const issuer = parts.payload.iss
  const entry = typeof issuer === 'string' ? context.issuers.get(issuer) : undefined
  if (entry !== undefined) return decodedWith(parts, entry)
  const { resolver } = context
  if (resolver === undefined || typeof issuer !== 'string') return notConfigured()
  const known = resolver.known(issuer)
  if (known === null) return notConfigured()
  if (known !== undefined) return decodedWith(parts, known)
  return resolver
    .lookup(issuer)
    .then((found) => (found === undefined ? notConfigured() : decodedWith(parts, found)))
}

function decodedWith(parts: UnverifiedParts, entry: IssuerEntry): DecodedToken {
  return { header: parts.header, payload: parts.payload, exact: parts.exact, entry }
}

function notConfigured(): AuthError {
  return new AuthError('token_invalid', 'The token was not issued by a configured issuer')
}

/**
 * Verifies a token already decoded by {@link decodeToken}: signature, claims, and the extra checks.
 * With the fast path and a key jose has already selected, this settles synchronously.
 */
export function verifyDecoded(
  token: string,
  decoded: DecodedToken,
  context: VerifierContext,
): Promise<VerifiedToken> {
  try {
    const result = verifyDecodedNow(token, decoded, context)
    return result instanceof Promise ? result : Promise.resolve(result)
  } catch (error) {
    return Promise.reject(error)
  }
}

/**
 * {@link verifyDecoded}, but a token the fast path can check with a key already selected is
 * verified at once: the result itself, or its refusal thrown (reported first). Anything else is a
 * promise. A key set refresh that starts in the background is handed to `waitUntil`, when given.
 */
export function verifyDecodedNow(
  token: string,
  decoded: DecodedToken,
  context: VerifierContext,
  waitUntil?: WaitUntil,
): VerifiedToken | Promise<VerifiedToken> {
  const { header, entry } = decoded
  let fast: boolean
  try {
    assertHeader(header, entry.tenant)
    fast = fastPathFor(decoded, context)
    const key = fast ? entry.keySet.selectedKey(header, waitUntil) : undefined
    const payload = key === undefined ? undefined : verifyWithKey(token, decoded, key)
    if (payload !== undefined) return accept(token, payload, entry, context)
  } catch (error) {
    throw refusal(error, context)
  }
  return verifyAwaitingKey(token, decoded, context, fast, waitUntil)
}

/** A refusal, reported where it is decided, as the error the caller sees. */
function refusal(error: unknown, context: VerifierContext): AuthError {
  const refused = toAuthError(error)
  context.emit({ type: 'token.rejected', code: codeOf(refused) })
  return refused
}

function rejected(error: unknown, context: VerifierContext): Promise<never> {
  return Promise.reject(refusal(error, context))
}

/** The path that waits: the key set must be fetched or jose must select and import the key. */
async function verifyAwaitingKey(
  token: string,
  decoded: DecodedToken,
  context: VerifierContext,
  fast: boolean,
  waitUntil: WaitUntil | undefined,
): Promise<VerifiedToken> {
  const { header, entry } = decoded
  const { keySet, options } = entry
  const getKey =
    waitUntil === undefined
      ? keySet.getKey
      : (protectedHeader: JWSHeaderParameters) => keySet.keyFor(protectedHeader, waitUntil)
  try {
    let payload: JWTPayload
    try {
      payload =
        (fast ? verifyWithKey(token, decoded, await getKey(header)) : undefined) ??
        (await jwtVerify(token, getKey, options)).payload
    } catch (error) {
      if (!hasCandidates(error)) throw error
      // Several keys match the header: both engines try each with jose.
      payload = await verifyWithCandidates(token, error, options)
    }
    return accept(token, payload, entry, context)
  } catch (error) {
    return rejected(error, context)
  }
}

/** A verified payload, checked further, made a VerifiedToken and remembered. */
function accept(
  token: string,
  payload: JWTPayload,
  entry: IssuerEntry,
  context: VerifierContext,
): VerifiedToken {
  assertClaimTypes(payload)
  const result = toVerifiedToken(payload, entry.tenant, context.registry, token)
  context.tokenCache?.set(token, result, entry.tenant)
  context.emit({ type: 'token.verified', issuer: result.issuer, cached: false })
  return result
}

/** The cached verification of exactly this token, while it is still valid; reported when found. */
export function cachedVerification(
  token: unknown,
  context: VerifierContext,
): VerifiedToken | undefined {
  if (context.tokenCache === undefined || typeof token !== 'string') return undefined
  if (token.length > context.maxTokenLength) return undefined
  const hit = context.tokenCache.get(token)
  if (hit !== undefined) context.emit({ type: 'token.verified', issuer: hit.issuer, cached: true })
  return hit
}

/**
 * The fast path: an RS* signature checked by node:crypto, the claims on the payload already
 * decoded. Only for a header jose would read as it stands (no `crit`) and a payload decoded exactly
 * as jose decodes it.
 */
function fastPathFor(decoded: DecodedToken, context: VerifierContext): boolean {
  const { header } = decoded
  return (
    context.fastSignatures && decoded.exact && header.crit === undefined && canCheckFast(header.alg)
  )
}

/**
 * The signature checked by node:crypto against the key jose selected, then the claims by
 * {@link checkClaims}, which refuses exactly what `jwtVerify` refuses. `undefined` hands the token to
 * the full jose path.
 */
function verifyWithKey(token: string, decoded: DecodedToken, key: unknown): JWTPayload | undefined {
  const { header, payload, entry } = decoded
  const valid = checkSignatureFast(token, header.alg as string, key)
  if (valid === undefined) return undefined
  if (!valid) throw new AuthError('token_invalid', 'The token signature is invalid')
  checkClaims(header, payload, entry.rules, Math.floor(Date.now() / 1000))
  return payload
}
