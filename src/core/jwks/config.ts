import { z } from 'zod'
import { DEFAULTS } from '../defaults.js'
import { milliseconds, millisecondsOrZero } from '../lib/schema-rules.js'

/** How the signing key set is fetched and kept. */
export interface JwksConfig {
  /** Deadline of one key set request, its body included, in milliseconds. Default 5 000. */
  timeoutMs?: number | undefined
  /** How long a fetched key set is used before it is refreshed, in milliseconds. Default 600 000. */
  maxAgeMs?: number | undefined
  /** Minimum time between fetches triggered by unknown `kid`s, in milliseconds. Default 30 000. */
  cooldownMs?: number | undefined
  /** How long past `maxAgeMs` the last good key set is served while refreshes fail, in milliseconds. Default 3 600 000. */
  staleIfErrorMs?: number | undefined
}

/** The key set settings, defaults filled in. */
export interface ResolvedJwks {
  readonly timeoutMs: number
  readonly maxAgeMs: number
  readonly cooldownMs: number
  readonly staleIfErrorMs: number
}

export const jwksSchema = z.strictObject({
  timeoutMs: milliseconds().optional(),
  maxAgeMs: milliseconds().optional(),
  cooldownMs: milliseconds().optional(),
  staleIfErrorMs: millisecondsOrZero(604_800_000).optional(),
})

export function resolveJwks(jwks: JwksConfig | undefined): ResolvedJwks {
  const defaults = DEFAULTS.jwks
  return {
    timeoutMs: jwks?.timeoutMs ?? defaults.timeoutMs,
    maxAgeMs: jwks?.maxAgeMs ?? defaults.maxAgeMs,
    cooldownMs: jwks?.cooldownMs ?? defaults.cooldownMs,
    staleIfErrorMs: jwks?.staleIfErrorMs ?? defaults.staleIfErrorMs,
  }
}
