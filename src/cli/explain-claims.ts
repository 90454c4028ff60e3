// The claim checks of a verification, one line each, with the clock difference in words. The
// rules are the verifier's own (`ClaimRules`, and the extra checks of verify/checks.ts); a test
// holds these lines to `checkClaims` and `assertClaimTypes`: all pass exactly when those do, and
// the claim they refuse is among the failing lines.
import type { JWTPayload, ProtectedHeaderParameters } from 'jose'
import type { ClaimRules } from '../core/verify/claims.js'
import type { Check } from './report.js'
import { duration, instant, list, maskSub } from './words.js'

// As verify/checks.ts: the last second a NumericDate can sensibly name, and control characters.
const LATEST_NUMERIC_DATE = 253_402_300_799
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

const isDate = (value: unknown): value is number =>
  typeof value === 'number' && value >= 0 && value <= LATEST_NUMERIC_DATE

/** One line per claim check, in the verifier's order, at `now` (seconds since the epoch). */
export function claimChecks(
  header: ProtectedHeaderParameters,
  payload: JWTPayload,
  rules: ClaimRules,
  now: number,
  showIdentities: boolean,
): Check[] {
  const checks: Check[] = []
  if (rules.typ !== undefined) checks.push(typCheck(header, rules.typ))
  checks.push(audienceCheck(payload.aud, rules.audience))
  checks.push(notBeforeCheck(payload.nbf, rules.toleranceSeconds, now))
  checks.push(expiryCheck(payload.exp, rules.toleranceSeconds, now))
  checks.push(issuedAtCheck(payload, rules, now))
  checks.push(subjectCheck(payload, showIdentities))
  return checks
}

function typCheck(header: ProtectedHeaderParameters, required: string): Check {
  const typ = header.typ
  const normalized =
    typeof typ === 'string'
      ? typ.includes('/')
        ? typ.toLowerCase()
        : `application/${typ.toLowerCase()}`
      : undefined
  if (normalized === required) return { name: 'typ', status: 'pass', detail: `${typ}` }
  return {
    name: 'typ',
    status: 'fail',
    detail: `${typeof typ === 'string' ? `typ is ${typ}` : 'no typ'}; at+jwt is required (requireAccessTokenType)`,
    fix: 'issue RFC 9068 access tokens (Auth0: the API\u2019s token profile "RFC 9068"), or drop requireAccessTokenType',
  }
}

function audienceCheck(aud: unknown, accepted: readonly string[]): Check {
  const fix = `request the token for this API: audience ${accepted.map((a) => `"${a}"`).join(' or ')} (Auth0: the authorize request's audience parameter)`
  if (aud === undefined) return { name: 'audience', status: 'fail', detail: 'no aud claim', fix }
  const values = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined
  if (values === undefined) {
    return { name: 'audience', status: 'fail', detail: 'aud is neither a string nor a list', fix }
  }
  const shown = list(values.map((value) => JSON.stringify(value)))
  const matched = accepted.filter((audience) => values.includes(audience))
  if (typeof aud === 'string' ? accepted.includes(aud) : matched.length > 0) {
    return { name: 'audience', status: 'pass', detail: `${shown} includes this API's` }
  }
  const wanted = list(accepted.map((a) => JSON.stringify(a)))
  return {
    name: 'audience',
    status: 'fail',
    detail:
      typeof aud === 'string'
        ? `${shown} is not this API's (${wanted})`
        : `${shown}: none is this API's (${wanted})`,
    fix,
  }
}

function issuedAtCheck(payload: JWTPayload, rules: ClaimRules, now: number): Check {
  const iat = payload.iat
  const name = 'issued at'
  if (iat === undefined) return { name, status: 'fail', detail: 'no iat claim' }
  if (!isDate(iat)) return { name, status: 'fail', detail: 'iat is not a valid date' }
  const age = now - iat
  const at = instant(iat)
  const tolerance = rules.toleranceSeconds
  if (age - tolerance > rules.maxTokenAgeSeconds) {
    return {
      name,
      status: 'fail',
      detail: `${duration(age)} ago (${at}), older than maxTokenAgeSeconds (${duration(rules.maxTokenAgeSeconds)})`,
      fix: 'get a new token',
    }
  }
  if (age < -tolerance) {
    return {
      name,
      status: 'fail',
      detail: `${duration(-age)} in the future (${at}), beyond the ${duration(tolerance)} tolerance`,
      fix: "this machine's clock or the issuer's is wrong: check both against NTP",
    }
  }
  return {
    name,
    status: 'pass',
    detail:
      age >= 0
        ? `${duration(age)} ago (${at})`
        : `${duration(-age)} ahead of this clock (${at}), within the tolerance`,
  }
}

function notBeforeCheck(nbf: unknown, tolerance: number, now: number): Check {
  const name = 'not before'
  if (nbf === undefined) return { name, status: 'pass', detail: 'no nbf claim' }
  if (!isDate(nbf)) return { name, status: 'fail', detail: 'nbf is not a valid date' }
  if (nbf > now + tolerance) {
    return {
      name,
      status: 'fail',
      detail: `valid only in ${duration(nbf - now)} (${instant(nbf)}), beyond the ${duration(tolerance)} tolerance`,
      fix: "this machine's clock or the issuer's is wrong: check both against NTP",
    }
  }
  return { name, status: 'pass', detail: `valid since ${instant(nbf)}` }
}

function expiryCheck(exp: unknown, tolerance: number, now: number): Check {
  const name = 'expiry'
  if (exp === undefined) return { name, status: 'fail', detail: 'no exp claim' }
  if (!isDate(exp)) return { name, status: 'fail', detail: 'exp is not a valid date' }
  if (exp <= now - tolerance) {
    return {
      name,
      status: 'fail',
      detail: `expired ${duration(now - exp)} ago (${instant(exp)}), beyond the ${duration(tolerance)} tolerance`,
      fix: 'get a new token (the client should refresh it before exp)',
    }
  }
  const left = exp - now
  return {
    name,
    status: 'pass',
    detail:
      left >= 0
        ? `expires in ${duration(left)} (${instant(exp)})`
        : `expired ${duration(-left)} ago (${instant(exp)}), within the ${duration(tolerance)} tolerance`,
  }
}

function subjectCheck(payload: JWTPayload, showIdentities: boolean): Check {
  const sub = payload.sub
  const name = 'subject'
  if (sub === undefined) return { name, status: 'fail', detail: 'no sub claim' }
  if (typeof sub !== 'string' || sub.length === 0) {
    return { name, status: 'fail', detail: 'sub is not a non-empty string' }
  }
  if (CONTROL.test(sub)) return { name, status: 'fail', detail: 'sub contains control characters' }
  const machine = sub.endsWith('@clients')
    ? ': a machine-to-machine token, verified but never resolved to a user'
    : ''
  return { name, status: 'pass', detail: `${maskSub(sub, showIdentities)}${machine}` }
}
