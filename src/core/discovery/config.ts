import { CONSUMER_DOMAINS } from '../lib/consumer-domains.js'
import { canonicalizeEmail } from '../lib/email.js'

/** How one email domain logs in with SSO. */
export interface DomainRule {
  /** The Auth0 connection name, e.g. `acme-waad`. */
  connection: string
  /** The Auth0 organization id, when the domain belongs to one (`org_…`). */
  organization?: string
}

/**
 * A custom discovery source: the SSO rule for a domain, or `null`/`undefined` when it has none.
 * Throwing makes discovery answer `discovery_unavailable` (unless a cached answer is fresh enough).
 */
export type DiscoveryResolver = (
  domain: string,
  email: string,
) => DomainRule | null | undefined | Promise<DomainRule | null | undefined>

/** Decides whether a client may call discovery now. `client` is what the adapter passes (the IP). */
export type RateLimitHook = (
  client: string,
) => RateLimitDecision | boolean | Promise<RateLimitDecision | boolean>

/** A rate limit hook's answer. */
export interface RateLimitDecision {
  allowed: boolean
  /** Sent as `Retry-After` when refused. */
  retryAfterSeconds?: number
}

/** A discovery source. */
export type DiscoverySource = 'static' | 'resolver' | 'management' | 'webfinger'

/** Home-realm discovery: how an email logs in. Only the static map is on unless more is configured. */
export interface DiscoveryConfig {
  /** Email domain → SSO rule, e.g. `{ 'acme.com': { connection: 'acme-waad' } }`. Matched exactly. */
  domains?: Record<string, DomainRule>
  /** The order sources are asked in. Default: static, resolver, management, webfinger (those configured). */
  order?: readonly DiscoverySource[]
  /**
   * The Auth0 Management API: enterprise connections enabled for `discovery.clientId`, matched by
   * `options.domain_aliases`. A machine-to-machine app's credentials with `read:connections` and
   * `read:clients`.
   */
  management?: { clientId: string; clientSecret: string; domain?: string }
  /** Auth0 WebFinger domain discovery (a yes/no per domain). */
  webfinger?: boolean
  /** Your own source. */
  resolver?: DiscoveryResolver
  /** The login application's client id (the `client_id` of the authorization URL). */
  clientId?: string
  /** `redirect_uri` of the authorization URL. */
  redirectUri?: string
  /** `response_type`. Default `code`. */
  responseType?: string
  /** `scope`. Default `openid profile email`. */
  scope?: string
  /** `audience` of the authorization URL. */
  audience?: string
  /** The database connection named in a `password` answer. */
  passwordConnection?: string
  /** More consumer mail domains that dynamic sources may never route to SSO. */
  consumerDomains?: readonly string[]
  /** How long a source's answer is reused, in milliseconds. Default 600 000 (10 min). */
  cacheTtlMs?: number
  /** How long past `cacheTtlMs` a cached answer is served while its source is down. Default 3 600 000. */
  staleTtlMs?: number
  /**
   * Deadline of one request to a source (the Management API token, each page of connections, a
   * WebFinger lookup), its retry and its body included, in milliseconds. Default 3 000.
   */
  timeoutMs?: number
  /** Per-client rate limit for the discover endpoint. */
  rateLimit?: RateLimitHook
}

export interface ResolvedDiscovery {
  readonly domains: ReadonlyMap<string, DomainRule>
  readonly order: readonly DiscoverySource[]
  readonly management:
    | { readonly clientId: string; readonly clientSecret: string; readonly origin: string }
    | undefined
  readonly webfinger: { readonly origin: string } | undefined
  readonly resolver: DiscoveryResolver | undefined
  readonly authorize: {
    readonly url: string
    readonly clientId: string | undefined
    readonly redirectUri: string | undefined
    readonly responseType: string
    readonly scope: string
    readonly audience: string | undefined
  }
  readonly passwordConnection: string | undefined
  readonly consumerDomains: ReadonlySet<string>
  readonly cacheTtlMs: number
  readonly staleTtlMs: number
  readonly timeoutMs: number
  readonly rateLimit: RateLimitHook | undefined
}

/** An email domain in canonical form (lower-case ASCII), or undefined. */
export function canonicalDomain(domain: string): string | undefined {
  return canonicalizeEmail(`x@${domain}`)?.domain
}

/**
 * Fills in discovery defaults. `tenantOrigin` is the first tenant's `https://<domain>` (or its
 * issuer's origin), where `/authorize` and WebFinger live.
 */
export function resolveDiscovery(
  input: DiscoveryConfig | undefined,
  tenant: { origin: string; domain: string | undefined },
): { value: ResolvedDiscovery; issues: { path: string; message: string }[] } {
  const config = input ?? {}
  const issues: { path: string; message: string }[] = []
  const consumerDomains = new Set(CONSUMER_DOMAINS)
  for (const [index, extra] of (config.consumerDomains ?? []).entries()) {
    const domain = canonicalDomain(extra)
    if (domain === undefined)
      issues.push({ path: `discovery.consumerDomains.${index}`, message: 'expected a domain' })
    else consumerDomains.add(domain)
  }
  const domains = new Map<string, DomainRule>()
  for (const [key, rule] of Object.entries(config.domains ?? {})) {
    const domain = canonicalDomain(key)
    if (domain === undefined) {
      issues.push({
        path: `discovery.domains.${key}`,
        message: 'expected an email domain such as acme.com',
      })
    } else if (consumerDomains.has(domain)) {
      issues.push({
        path: `discovery.domains.${key}`,
        message: 'a consumer mail domain cannot be mapped to SSO',
      })
    } else {
      domains.set(domain, rule)
    }
  }
  const managementDomain = config.management?.domain ?? tenant.domain
  if (config.management !== undefined && managementDomain === undefined) {
    issues.push({
      path: 'discovery.management.domain',
      message: 'required when no auth0.domain is configured',
    })
  }
  if (config.management !== undefined && config.clientId === undefined) {
    issues.push({
      path: 'discovery.clientId',
      message:
        'required with discovery.management: only connections enabled for this client are used',
    })
  }
  const configured: Record<DiscoverySource, boolean> = {
    static: true,
    resolver: config.resolver !== undefined,
    management: config.management !== undefined,
    webfinger: config.webfinger === true,
  }
  for (const source of config.order ?? []) {
    if (!configured[source])
      issues.push({ path: 'discovery.order', message: `source '${source}' is not configured` })
  }
  const order = (
    config.order ?? (['static', 'resolver', 'management', 'webfinger'] as const)
  ).filter((source) => configured[source])
  return {
    issues,
    value: {
      domains,
      order,
      management:
        config.management === undefined || managementDomain === undefined
          ? undefined
          : {
              clientId: config.management.clientId,
              clientSecret: config.management.clientSecret,
              origin: `https://${managementDomain.toLowerCase()}`,
            },
      webfinger: config.webfinger === true ? { origin: tenant.origin } : undefined,
      resolver: config.resolver,
      authorize: {
        url: `${tenant.origin}/authorize`,
        clientId: config.clientId,
        redirectUri: config.redirectUri,
        responseType: config.responseType ?? 'code',
        scope: config.scope ?? 'openid profile email',
        audience: config.audience,
      },
      passwordConnection: config.passwordConnection,
      consumerDomains,
      cacheTtlMs: config.cacheTtlMs ?? 600_000,
      staleTtlMs: config.staleTtlMs ?? 3_600_000,
      timeoutMs: config.timeoutMs ?? 3_000,
      rateLimit: config.rateLimit,
    },
  }
}
