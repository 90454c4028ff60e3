// The registered-claim checks of jose's `jwtVerify`, made on the payload the verifier has already
// decoded instead of on a second decode of it. They accept and refuse exactly what `jwtVerify`
// does with the options `verifyOptionsFor` builds, in the same order and with the same error
// (the differential test in test/verify/claims.test.ts holds them to that); the checks
// canonical-auth adds beyond jose's stay in checks.ts.
import type { JWTPayload, ProtectedHeaderParameters } from 'jose'
import type { AuthError } from '../errors.js'
import { TokenCheckError } from '../token-check-error.js'
import type { TenantVerification } from './config.js'
import { refusalFor } from './jose-errors.js'

/** One tenant's claim rules, prepared once. */
export interface ClaimRules {
  readonly issuer: string
  readonly audience: readonly string[]
  readonly toleranceSeconds: number
  readonly maxTokenAgeSeconds: number
  /** The required media type of the header's `typ`, normalised; `undefined` when none is. */
  readonly typ: string | undefined
}

export function claimRulesFor(tenant: TenantVerification): ClaimRules {
  return {
    issuer: tenant.issuer,
    audience: tenant.audience,
    toleranceSeconds: tenant.clockToleranceSeconds,
    maxTokenAgeSeconds: tenant.maxTokenAgeSeconds,
    typ: tenant.requireAccessTokenType ? normalizeTyp('at+jwt') : undefined,
  }
}

// The claims that must be present, in the order jose looks for them.
const PRESENCE_ORDER = ['iss', 'aud', 'iat', 'sub', 'exp'] as const

/**
 * Checks `typ`, the presence of iss/aud/iat/sub/exp, `iss`, `aud`, `nbf`, `exp` and the token's age
 * against `now` (seconds since the epoch). Throws the {@link AuthError} the verifier answers when
 * jose refuses the same payload.
 */
export function checkClaims(
  header: ProtectedHeaderParameters,
  payload: JWTPayload,
  rules: ClaimRules,
  now: number,
): void {
  if (
    rules.typ !== undefined &&
    (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== rules.typ)
  ) {
    throw invalid('typ', 'check_failed')
  }
  for (const claim of PRESENCE_ORDER) {
    if (!Object.hasOwn(payload, claim)) throw invalid(claim, 'missing')
  }
  if (payload.iss !== rules.issuer) throw invalid('iss', 'check_failed')
  if (!hasAudience(payload.aud, rules.audience)) throw invalid('aud', 'check_failed')
  const tolerance = rules.toleranceSeconds
  const iat = payload.iat
  if (typeof iat !== 'number') throw invalid('iat', 'invalid')
  const nbf = payload.nbf
  if (nbf !== undefined) {
    if (typeof nbf !== 'number') throw invalid('nbf', 'invalid')
    if (nbf > now + tolerance) throw invalid('nbf', 'check_failed')
  }
  const exp = payload.exp
  if (typeof exp !== 'number') throw invalid('exp', 'invalid')
  if (exp <= now - tolerance) throw expired('exp')
  const age = now - iat
  if (age - tolerance > rules.maxTokenAgeSeconds) throw expired('iat')
  if (age < -tolerance) throw invalid('iat', 'check_failed')
}

function hasAudience(aud: unknown, accepted: readonly string[]): boolean {
  if (typeof aud === 'string') return accepted.includes(aud)
  return Array.isArray(aud) && accepted.some((audience) => aud.includes(audience))
}

// A media type as RFC 7515 §4.1.9 compares it: case-insensitive, `application/` implied.
function normalizeTyp(value: string): string {
  const normalized = value.toLowerCase()
  return value.includes('/') ? normalized : `application/${normalized}`
}

function invalid(claim: string, reason: 'missing' | 'invalid' | 'check_failed'): AuthError {
  return refusalFor(new TokenCheckError('ERR_JWT_CLAIM_VALIDATION_FAILED', claim, reason))
}

function expired(claim: 'exp' | 'iat'): AuthError {
  return refusalFor(new TokenCheckError('ERR_JWT_EXPIRED', claim, 'check_failed'))
}
