import { AuthError } from '../errors.js'
import { canonicalizeExactEmail } from '../lib/email.js'
import type { ResolvedDiscovery } from './config.js'
import { ManagementSource, ResolverSource, type SourceAnswer, WebfingerSource } from './sources.js'

/** How an email logs in: what `discoverAuthProvider` answers. */
export interface Discovery {
  /** The canonical email. */
  readonly email: string
  /** Its domain, in ASCII. */
  readonly domain: string
  readonly method: 'sso' | 'password'
  /** For `sso`, the Auth0 connection when known; for `password`, the configured database connection. */
  readonly connection?: string
  /** The Auth0 organization, when the domain belongs to one. */
  readonly organization?: string
  /**
   * For `sso`: `https://<tenant>/authorize` with the configured parameters and `login_hint`. Only
   * when `discovery.clientId` and `discovery.redirectUri` are configured: Auth0 refuses an
   * authorize request without them, so without them the login page builds its own from
   * `connection` (e.g. with auth0-spa-js).
   */
  readonly authorizationUrl?: string
}

/** Home-realm discovery over the configured sources, in order. */
export class Discoverer {
  readonly #config: ResolvedDiscovery
  readonly #management: ManagementSource | undefined
  readonly #webfinger: WebfingerSource | undefined
  readonly #resolver: ResolverSource | undefined

  constructor(config: ResolvedDiscovery) {
    this.#config = config
    const timing = {
      maxAgeMs: config.maxAgeMs,
      staleIfErrorMs: config.staleIfErrorMs,
      timeoutMs: config.timeoutMs,
    }
    this.#management =
      config.management === undefined || config.authorize.clientId === undefined
        ? undefined
        : new ManagementSource(
            { ...config.management, loginClientId: config.authorize.clientId },
            timing,
          )
    this.#webfinger =
      config.webfinger === undefined
        ? undefined
        : new WebfingerSource(config.webfinger.origin, timing)
    this.#resolver =
      config.resolver === undefined ? undefined : new ResolverSource(config.resolver, timing)
  }

  async discover(input: unknown): Promise<Discovery> {
    // The discover endpoint is public: an address with whitespace around it is malformed input,
    // not something to tidy up. Otherwise it is read exactly as resolution reads a token's email.
    const email = canonicalizeExactEmail(input)
    if (email === undefined)
      throw new AuthError('invalid_request', 'Expected one valid email address')
    const { domain, address } = email
    for (const source of this.#config.order) {
      const answer =
        source === 'static'
          ? (this.#config.domains.get(domain) ?? null)
          : await this.#ask(source, domain, address)
      if (answer !== null) return this.#sso(address, domain, answer)
    }
    const connection = this.#config.passwordConnection
    return {
      email: address,
      domain,
      method: 'password',
      ...(connection === undefined ? {} : { connection }),
    }
  }

  async #ask(
    source: 'resolver' | 'management' | 'webfinger',
    domain: string,
    email: string,
  ): Promise<SourceAnswer> {
    // A dynamic source can never send a consumer mail domain to SSO.
    if (this.#config.consumerDomains.has(domain)) return null
    if (source === 'resolver') return (await this.#resolver?.lookup(domain, email)) ?? null
    if (source === 'management') return (await this.#management?.lookup(domain)) ?? null
    return (await this.#webfinger?.lookup(domain)) ?? null
  }

  #sso(email: string, domain: string, answer: NonNullable<SourceAnswer>): Discovery {
    const { connection, organization } = answer
    return {
      email,
      domain,
      method: 'sso',
      ...(connection === undefined ? {} : { connection }),
      ...(organization === undefined ? {} : { organization }),
      ...this.#authorizationUrl(email, connection, organization),
    }
  }

  #authorizationUrl(
    email: string,
    connection: string | undefined,
    organization: string | undefined,
  ): { authorizationUrl?: string } {
    const { url, clientId, redirectUri, responseType, scope, audience } = this.#config.authorize
    if (clientId === undefined || redirectUri === undefined) return {}
    const params = new URLSearchParams({ response_type: responseType })
    params.set('client_id', clientId)
    params.set('redirect_uri', redirectUri)
    params.set('scope', scope)
    if (audience !== undefined) params.set('audience', audience)
    if (connection !== undefined) params.set('connection', connection)
    params.set('login_hint', email)
    if (organization !== undefined) params.set('organization', organization)
    return { authorizationUrl: `${url}?${params}` }
  }
}
