import { z } from 'zod'
import { ENTERPRISE_STRATEGIES } from '../lib/connection.js'
import { canonicalDomain } from '../lib/email.js'
import { statusError, UpstreamError } from '../upstream/client.js'
import { upstreamRequest } from '../upstream/request.js'
import type { DiscoveryResolver, DomainRule } from './config.js'
import { type SourceTiming, StaleIfErrorCache } from './stale-if-error.js'

/** What a source says of a domain: an SSO rule (the connection may be unknown), or `null`: not federated. */
export type SourceAnswer = {
  connection?: string | undefined
  organization?: string | undefined
} | null

const MAX_PAGES = 100
// Byte caps: a token answer; one page of up to 100 connections; a WebFinger resource descriptor.
const MAX_TOKEN_BYTES = 65_536
const MAX_PAGE_BYTES = 1_048_576
const MAX_WEBFINGER_BYTES = 16_384

const tokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().positive() })
const connectionSchema = z.object({
  name: z.string(),
  strategy: z.string(),
  options: z
    .object({ domain_aliases: z.array(z.string()).optional() })
    .loose()
    .nullish(),
})
const pageSchema = z.union([
  z.array(connectionSchema),
  z.object({ connections: z.array(connectionSchema), next: z.string().nullish() }),
])

/**
 * The Auth0 Management API: enterprise connections enabled for the login client, by
 * `options.domain_aliases`. The client-credentials token is cached until a minute before it
 * expires; the domain map is cached as a whole.
 */
export class ManagementSource {
  readonly #options: {
    clientId: string
    clientSecret: string
    origin: string
    loginClientId: string
  }
  readonly #timing: SourceTiming
  readonly #map: StaleIfErrorCache<ReadonlyMap<string, string>>
  #token: { readonly value: string; readonly usableUntil: number } | undefined
  #tokenFlight: Promise<string> | undefined

  constructor(
    options: { clientId: string; clientSecret: string; origin: string; loginClientId: string },
    timing: SourceTiming,
  ) {
    this.#options = options
    this.#timing = timing
    this.#map = new StaleIfErrorCache(timing)
  }

  async lookup(domain: string): Promise<SourceAnswer> {
    const map = await this.#map.get('', () => this.#loadMap())
    const connection = map.get(domain)
    return connection === undefined ? null : { connection }
  }

  async #loadMap(): Promise<ReadonlyMap<string, string>> {
    const token = await this.#accessToken()
    const map = new Map<string, string>()
    const { origin, loginClientId } = this.#options
    let from: string | undefined
    for (let page = 0; page < MAX_PAGES; page++) {
      const query = new URLSearchParams({ take: '100', ...(from === undefined ? {} : { from }) })
      const body = await upstreamRequest(
        { upstream: 'management', timeoutMs: this.#timing.timeoutMs, maxBytes: MAX_PAGE_BYTES },
        {
          url: `${origin}/api/v2/clients/${encodeURIComponent(loginClientId)}/connections?${query}`,
          headers: { authorization: `Bearer ${token}` },
        },
        (response) => {
          if (response.status === 401) this.#token = undefined
          if (!response.ok) throw statusError('management', response.status)
          return response.json()
        },
      )
      const parsed = pageSchema.safeParse(body)
      if (!parsed.success)
        throw new UpstreamError('management', 'invalid_response', 'answered an unexpected page')
      const connections = Array.isArray(parsed.data) ? parsed.data : parsed.data.connections
      for (const connection of connections) {
        if (!ENTERPRISE_STRATEGIES.has(connection.strategy)) continue
        for (const alias of connection.options?.domain_aliases ?? []) {
          const aliasDomain = canonicalDomain(alias)
          if (aliasDomain !== undefined && !map.has(aliasDomain))
            map.set(aliasDomain, connection.name)
        }
      }
      const next = Array.isArray(parsed.data) ? undefined : parsed.data.next
      if (
        next === undefined ||
        next === null ||
        next === '' ||
        next === from ||
        connections.length === 0
      )
        break
      from = next
    }
    return map
  }

  async #accessToken(): Promise<string> {
    if (this.#token !== undefined && Date.now() < this.#token.usableUntil) return this.#token.value
    this.#tokenFlight ??= this.#fetchToken().finally(() => {
      this.#tokenFlight = undefined
    })
    return this.#tokenFlight
  }

  async #fetchToken(): Promise<string> {
    const { origin, clientId, clientSecret } = this.#options
    const body = await upstreamRequest(
      { upstream: 'management', timeoutMs: this.#timing.timeoutMs, maxBytes: MAX_TOKEN_BYTES },
      {
        method: 'post',
        url: `${origin}/oauth/token`,
        json: {
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: clientSecret,
          audience: `${origin}/api/v2/`,
        },
      },
      (response) => {
        if (!response.ok) throw statusError('management', response.status)
        return response.json()
      },
    )
    const parsed = tokenSchema.safeParse(body)
    if (!parsed.success)
      throw new UpstreamError('management', 'invalid_response', 'answered without an access token')
    const lifetimeMs = parsed.data.expires_in * 1000
    // Renew a minute early (or at 90% of a short lifetime) so no request carries an expiring token.
    const usableMs = lifetimeMs - Math.min(60_000, lifetimeMs / 10)
    this.#token = { value: parsed.data.access_token, usableUntil: Date.now() + usableMs }
    return parsed.data.access_token
  }
}

/**
 * Auth0 WebFinger domain discovery: 200 with a JSON resource descriptor means federated, 404 means
 * not; anything else (a redirect, a body past 16 KiB or past the deadline) is a failure.
 */
export class WebfingerSource {
  readonly #origin: string
  readonly #timing: SourceTiming
  readonly #answers: StaleIfErrorCache<SourceAnswer>

  constructor(origin: string, timing: SourceTiming) {
    this.#origin = origin
    this.#timing = timing
    this.#answers = new StaleIfErrorCache(timing)
  }

  lookup(domain: string): Promise<SourceAnswer> {
    return this.#answers.get(domain, () =>
      upstreamRequest(
        { upstream: 'webfinger', timeoutMs: this.#timing.timeoutMs, maxBytes: MAX_WEBFINGER_BYTES },
        {
          url: `${this.#origin}/.well-known/webfinger?resource=urn:auth0:discovery:domain:${domain}`,
          headers: { accept: 'application/jrd+json, application/json' },
        },
        async (response): Promise<SourceAnswer> => {
          if (response.status === 404) return null
          if (!response.ok) throw statusError('webfinger', response.status)
          // Only the status is needed, but a yes is taken from a JSON resource descriptor only
          // (RFC 7033), read within the cap and the deadline: an error page from something in
          // between, or a body that trickles or runs on, fails closed instead.
          const descriptor = await response.json()
          if (typeof descriptor !== 'object' || descriptor === null || Array.isArray(descriptor))
            throw new UpstreamError(
              'webfinger',
              'invalid_response',
              'answered no resource descriptor',
            )
          return {}
        },
      ),
    )
  }
}

const ruleSchema = z.object({
  connection: z.string().min(1),
  organization: z.string().min(1).optional(),
})

/** A custom resolver, cached per domain like the other dynamic sources. */
export class ResolverSource {
  readonly #resolve: DiscoveryResolver
  readonly #answers: StaleIfErrorCache<SourceAnswer>

  constructor(resolve: DiscoveryResolver, timing: SourceTiming) {
    this.#resolve = resolve
    this.#answers = new StaleIfErrorCache(timing)
  }

  lookup(domain: string, email: string): Promise<SourceAnswer> {
    return this.#answers.get(domain, async () => {
      const rule: DomainRule | null | undefined = await this.#resolve(domain, email)
      if (rule === null || rule === undefined) return null
      const parsed = ruleSchema.safeParse(rule)
      if (!parsed.success)
        throw new UpstreamError('resolver', 'invalid_response', 'answered without a connection')
      return parsed.data.organization === undefined
        ? { connection: parsed.data.connection }
        : { connection: parsed.data.connection, organization: parsed.data.organization }
    })
  }
}
