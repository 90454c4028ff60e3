import { urlProblem } from '../lib/schema-rules.js'
import { statusError, UpstreamError } from '../upstream/client.js'
import { upstreamRequest } from '../upstream/request.js'
import type { ResolvedJwks } from './config.js'

// The statuses that say a metadata document is not at this well-known name.
const NOT_HERE = [404, 405, 410]

// Real provider documents are a few kilobytes; one past this is not a metadata document.
export const MAX_METADATA_BYTES = 262_144

/**
 * Where an issuer's key set is, from its metadata (OpenID Connect Discovery 1.0 §4, RFC 8414 §3):
 * `<issuer>/.well-known/openid-configuration`, then `/.well-known/oauth-authorization-server`
 * inserted before the issuer's path when the first is not there (a 4xx). The document must name
 * exactly the configured issuer, and its `jwks_uri` must be `https:` (`http:` on a loopback host
 * only). Nothing here ever comes from a token.
 *
 * The document is kept like a key set: reused for `maxAgeMs`, and past that, while a new one
 * cannot be had, for `staleIfErrorMs` more. The key set that asks for it brings the rest of the
 * policy: one fetch at a time, background refresh, backoff after a failure.
 */
export class IssuerMetadata {
  readonly issuer: string
  readonly #options: ResolvedJwks
  #kept: { readonly jwksUri: string; readonly fetchedAt: number } | undefined

  constructor(issuer: string, options: ResolvedJwks) {
    this.issuer = issuer
    this.#options = options
  }

  /** The URL of the first metadata document tried, for reports before a key set URL is known. */
  get metadataUrl(): string {
    return metadataUrls(this.issuer)[0]
  }

  /** The key set URL: the kept one while fresh, else from a new document, else the kept one while it may be served. */
  async jwksUri(signal: AbortSignal): Promise<string> {
    const kept = this.#kept
    const now = Date.now()
    if (kept !== undefined && now - kept.fetchedAt < this.#options.maxAgeMs) return kept.jwksUri
    try {
      const jwksUri = await this.#discover(signal)
      this.#kept = { jwksUri, fetchedAt: Date.now() }
      return jwksUri
    } catch (error) {
      if (
        kept !== undefined &&
        !signal.aborted &&
        Date.now() - kept.fetchedAt < this.#options.maxAgeMs + this.#options.staleIfErrorMs
      ) {
        return kept.jwksUri
      }
      throw error
    }
  }

  async #discover(signal: AbortSignal): Promise<string> {
    const [openid, oauth] = metadataUrls(this.issuer)
    try {
      return await this.#read(openid, signal)
    } catch (error) {
      // Only "not here" moves on to the other well-known name; an answer that is wrong (another
      // issuer, no usable key set URL), a refusal (401, 403, 429) or a provider that is down is
      // the answer.
      if (!(error instanceof UpstreamError && NOT_HERE.includes(error.status ?? 0))) throw error
      return await this.#read(oauth, signal)
    }
  }

  #read(url: string, signal: AbortSignal): Promise<string> {
    return upstreamRequest(
      {
        upstream: 'issuer metadata',
        timeoutMs: this.#options.timeoutMs,
        maxBytes: MAX_METADATA_BYTES,
        signal,
      },
      // No retry here: a failure starts the key set's own backoff.
      { url, retries: 0 },
      async (response) => {
        if (!response.ok) throw statusError('issuer metadata', response.status)
        return jwksUriOf(await response.json(), this.issuer)
      },
    )
  }
}

/**
 * The OpenID Connect and RFC 8414 metadata URLs of an issuer, each with the issuer's terminating
 * `/` removed first (OpenID Connect Discovery §4, RFC 8414 §3.1): OpenID Connect appends to the
 * issuer, RFC 8414 inserts before its path. `https://id.example.com/tenant/` →
 * `https://id.example.com/tenant/.well-known/openid-configuration` and
 * `https://id.example.com/.well-known/oauth-authorization-server/tenant`.
 */
export function metadataUrls(issuer: string): [openid: string, oauth: string] {
  const { origin, pathname } = new URL(issuer)
  const path = pathname.endsWith('/') ? pathname.slice(0, -1) : pathname
  return [
    `${origin}${path}/.well-known/openid-configuration`,
    `${origin}/.well-known/oauth-authorization-server${path}`,
  ]
}

/** The document's `jwks_uri`, after checking that it describes `issuer` and points somewhere safe. */
export function jwksUriOf(document: unknown, issuer: string): string {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw invalid('is not a JSON object')
  }
  const { issuer: named, jwks_uri: jwksUri } = document as Record<string, unknown>
  // Exactly, as the token's iss is compared: a document for another issuer describes other keys.
  if (named !== issuer) throw invalid('names another issuer')
  if (typeof jwksUri !== 'string') throw invalid('has no jwks_uri')
  const problem = urlProblem(jwksUri)
  if (problem !== undefined) throw invalid(`has an unusable jwks_uri (${problem})`)
  return jwksUri
}

function invalid(what: string): UpstreamError {
  return new UpstreamError('issuer metadata', 'invalid_response', `the document ${what}`)
}
