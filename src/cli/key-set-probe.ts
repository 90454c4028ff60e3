// The key set of one tenant, fetched as the verifier fetches it (its metadata first when the key
// set URL comes from there; one deadline, a byte cap, no redirect followed), and the keys it holds
// told apart: those canonical-auth verifies with, and those it refuses to use.
import type { JWK } from 'jose'
import type { ResolvedJwks } from '../core/jwks/config.js'
import { IssuerMetadata } from '../core/jwks/issuer-metadata.js'
import { MAX_JWKS_BYTES } from '../core/jwks/key-set.js'
import { parseKeySet } from '../core/jwks/safe-keys.js'
import { statusError, UpstreamError } from '../core/upstream/client.js'
import { upstreamRequest } from '../core/upstream/request.js'
import type { TenantVerification } from '../core/verify/config.js'
import { size } from './words.js'

/** What to check when a tenant's key set cannot be fetched. */
export const KEY_SET_FIX =
  'check the tenant domain or jwksUri, and that this machine reaches it (proxy, firewall)'

/** What a tenant's key set holds. */
export interface KeySetProbe {
  readonly url: string
  /** The keys canonical-auth verifies with. */
  readonly usable: readonly JWK[]
  /** Every key the document lists, usable or not. */
  readonly all: readonly JWK[]
}

/** Fetches and sorts a tenant's key set. Rejects with an {@link UpstreamError} or a plain Error. */
export async function probeKeySet(
  tenant: TenantVerification,
  jwks: ResolvedJwks,
): Promise<KeySetProbe> {
  const signal = new AbortController().signal
  const url = tenant.jwksUri ?? (await new IssuerMetadata(tenant.issuer, jwks).jwksUri(signal))
  const document = await upstreamRequest(
    { upstream: 'jwks', timeoutMs: jwks.timeoutMs, maxBytes: MAX_JWKS_BYTES },
    { url, retries: 0 },
    (response) => {
      if (!response.ok) throw statusError('jwks', response.status)
      return response.json()
    },
  )
  const listed = (document as { keys?: unknown } | null)?.keys
  const all = Array.isArray(listed) ? (listed as JWK[]) : []
  let usable: JWK[] = []
  try {
    usable = parseKeySet(document)
  } catch {
    // No usable key: reported by the caller from `usable` being empty.
  }
  return { url, usable, all }
}

/** A key in a few words: `RSA kid "a1b2" for RS256` (its algorithm when the key names one). */
export function describeKey(key: JWK): string {
  const kind =
    key.kty === 'EC' || key.kty === 'OKP' ? `${key.kty} ${key.crv ?? ''}`.trim() : `${key.kty}`
  const named =
    typeof key.kid === 'string' ? `${kind} kid ${JSON.stringify(key.kid)}` : `${kind} without a kid`
  return typeof key.alg === 'string' ? `${named} for ${key.alg}` : named
}

/**
 * Why a fetch failed, in words safe to print (no upstream body); `maxBytes` is the cap the fetch
 * was read under (the key set's by default).
 */
export function fetchFailure(error: unknown, maxBytes = MAX_JWKS_BYTES): string {
  if (error instanceof UpstreamError) {
    if (error.kind === 'status') return `answered HTTP ${error.status}`
    if (error.kind === 'redirect')
      return `answered a redirect (${error.status}), which is never followed`
    if (error.kind === 'timeout') return 'no answer within jwks.timeoutMs'
    if (error.kind === 'too_large') return `answered more than ${size(maxBytes)}`
    if (error.kind === 'network') return 'could not be reached (network error)'
    // Its message names the upstream and the kind of failure, never a body.
    return error.message
  }
  return error instanceof Error ? error.message : 'failed'
}
