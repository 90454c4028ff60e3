import type { JWTPayload } from 'jose'
import { connectionFromSubject } from '../lib/connection.js'
import { isUuid } from '../lib/uuid.js'
import type { VerifiedToken } from '../types.js'
import type { VerifiedRegistry } from '../verified-registry.js'
import type { TenantVerification } from './config.js'

/**
 * The {@link VerifiedToken} for a payload that passed every check: identity facts read from the
 * claims the tenant names, added to `registry` with the raw token and the tenant, then all of it
 * frozen.
 */
export function toVerifiedToken(
  payload: JWTPayload,
  tenant: TenantVerification,
  registry: VerifiedRegistry<TenantVerification>,
  raw: string,
): VerifiedToken {
  const { claims } = tenant
  const subject = payload.sub as string
  const email = payload[claims.email]
  const emailVerified = payload[claims.emailVerified]
  const connection =
    claims.connection === undefined ? connectionFromSubject(subject) : payload[claims.connection]
  const canonicalUserId =
    claims.canonicalUserId === undefined ? undefined : payload[claims.canonicalUserId]
  // The claims are frozen first: a claim that is already a list of strings then serves as it is.
  const claimSet = deepFreeze(payload)
  // Built field by field (no spreads) in one order, so that every result shares a few shapes.
  const token = {
    subject,
    issuer: payload.iss as string,
    audience: typeof payload.aud === 'string' ? Object.freeze([payload.aud]) : strings(payload.aud),
    expiresAt: readonlyDate((payload.exp as number) * 1000),
  } as Mutable<VerifiedToken>
  if (typeof email === 'string') token.email = email
  if (typeof emailVerified === 'boolean') token.emailVerified = emailVerified
  if (typeof connection === 'string' && connection !== '') token.connection = connection
  if (isUuid(canonicalUserId)) token.canonicalUserId = canonicalUserId.toLowerCase()
  token.scopes = scopesOf(payload.scope)
  token.permissions = strings(payload.permissions)
  token.claims = claimSet
  registry.add(token, raw, tenant)
  // Frozen, arrays included: with the verification cache one object serves every request that
  // presents this token, so no handler may change what the next one sees.
  return Object.freeze(token)
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * A Date whose setters throw: a cached VerifiedToken, `expiresAt` included, is shared by every
 * request that presents the token, so none may move another's expiry. A plain Date given a
 * prototype whose setters throw, rather than an instance of a Date subclass: constructing a
 * subclass of a built-in runs V8's slow construct path, which cost more than the rest of building
 * the VerifiedToken together.
 */
function readonlyDate(epochMs: number): Date {
  return Object.setPrototypeOf(new Date(epochMs), READONLY_DATE) as Date
}

const READONLY_DATE: Date = Object.create(Date.prototype)
for (const name of Object.getOwnPropertyNames(Date.prototype)) {
  if (!name.startsWith('set')) continue
  Object.defineProperty(READONLY_DATE, name, {
    value() {
      throw new TypeError('VerifiedToken.expiresAt is read-only')
    },
  })
}

/**
 * Freezes a parsed JSON value all the way down (its size is bounded by the token size cap). JSON
 * holds no cycles and no accessors, so a plain walk over own keys and indexes reaches all of it.
 */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) deepFreeze(value[index])
  } else {
    const record = value as Record<string, unknown>
    for (const key in record) deepFreeze(record[key])
  }
  return Object.freeze(value)
}

/** The strings of a frozen claim, frozen: the claim itself when it holds nothing else. */
function strings(value: unknown): readonly string[] {
  if (!Array.isArray(value)) return NONE
  for (let index = 0; index < value.length; index++) {
    if (typeof value[index] !== 'string') {
      return Object.freeze(value.filter((item): item is string => typeof item === 'string'))
    }
  }
  return value as readonly string[]
}

const NONE: readonly string[] = Object.freeze([])

/** The space-separated scopes of a `scope` claim, frozen, without empty ones. */
function scopesOf(scope: unknown): readonly string[] {
  if (typeof scope !== 'string' || scope === '') return NONE
  const parts = scope.split(' ')
  return Object.freeze(parts.includes('') ? parts.filter(Boolean) : parts)
}
