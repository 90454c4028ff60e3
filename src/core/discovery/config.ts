import { z } from 'zod'
import { DEFAULTS } from '../defaults.js'
import { CONSUMER_DOMAINS } from '../lib/consumer-domains.js'
import { canonicalDomain } from '../lib/email.js'
import {
  hook,
  hostName,
  milliseconds,
  millisecondsOrZero,
  nonEmpty,
  secureUrl,
} from '../lib/schema-rules.js'

/** How one email domain logs in with SSO. */
export interface DomainRule {
  /** The Auth0 connection name, e.g. `acme-waad`. */
  connection: string
  /** The Auth0 organization id, when the domain belongs to one (`org_…`). */
  organization?: string | undefined
}

/**
 * A custom discovery source: the SSO rule for a domain, or `null`/`undefined` when it has none.
 * Throwing makes discovery answer `discovery_unavailable` (unless a cached answer is fresh enough).
 */
export type DiscoveryResolver = (
  domain: string,
  email: string,
) => DomainRule | null | undefined | Promise<DomainRule | null | undefined>

/** A discovery source. */
export type DiscoverySource = 'static' | 'resolver' | 'management' | 'webfinger'

/** Home-realm discovery: how an email logs in. Only the static map is on unless more is configured. */
export interface DiscoveryConfig {
  /** Email domain → SSO rule, e.g. `{ 'acme.com': { connection: 'acme-waad' } }`. Matched exactly. */
  domains?: Record<string, DomainRule> | undefined
  /** The order sources are asked in. Default: static, resolver, management, webfinger (those configured). */
  order?: readonly DiscoverySource[] | undefined
  /**
   * The Auth0 Management API: enterprise connections enabled for `discovery.clientId`, matched by
   * `options.domain_aliases`. A machine-to-machine app's credentials with `read:connections` and
   * `read:clients`.
   */
  management?: { clientId: string; clientSecret: string; domain?: string | undefined } | undefined
  /** Auth0 WebFinger domain discovery (a yes/no per domain). */
  webfinger?: boolean | undefined
  /** Your own source. */
  resolver?: DiscoveryResolver | undefined
  /** The login application's client id (the `client_id` of the authorization URL). */
  clientId?: string | undefined
  /** `redirect_uri` of the authorization URL. */
  redirectUri?: string | undefined
  /** `response_type`. Default `code`. */
  responseType?: string | undefined
  /** `scope`. Default `openid profile email`. */
  scope?: string | undefined
  /** `audience` of the authorization URL. */
  audience?: string | undefined
  /** The database connection named in a `password` answer. */
  passwordConnection?: string | undefined
  /** More consumer mail domains that dynamic sources may never route to SSO. */
  consumerDomains?: readonly string[] | undefined
  /** How long a source's answer is reused, in milliseconds. Default 600 000 (10 min). */
  maxAgeMs?: number | undefined
  /**
   * How long past `maxAgeMs` a cached answer is served while its source is down, in milliseconds.
   * Default 3 600 000.
   */
  staleIfErrorMs?: number | undefined
  /**
   * Deadline of one request to a source (the Management API token, each page of connections, a
   * WebFinger lookup), its retry and its body included, in milliseconds. Default 3 000.
   */
  timeoutMs?: number | undefined
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
  readonly maxAgeMs: number
  readonly staleIfErrorMs: number
  readonly timeoutMs: number
}

const SOURCES = ['static', 'resolver', 'management', 'webfinger'] as const

export const discoverySchema = z
  .strictObject({
    domains: z
      .record(
        z.string(),
        z.strictObject(
          { connection: nonEmpty, organization: nonEmpty.optional() },
          { error: 'expected { connection, organization? }' },
        ),
      )
      .optional(),
    order: z
      .array(z.enum(SOURCES))
      .min(1)
      .refine((order) => new Set(order).size === order.length, {
        error: 'expected each source once',
      })
      .optional(),
    management: z
      .strictObject({ clientId: nonEmpty, clientSecret: nonEmpty, domain: hostName.optional() })
      .optional(),
    webfinger: z.boolean().optional(),
    resolver: hook<DiscoveryResolver>('a function resolver(domain, email)').optional(),
    clientId: nonEmpty.optional(),
    redirectUri: secureUrl.optional(),
    responseType: nonEmpty.optional(),
    scope: nonEmpty.optional(),
    audience: nonEmpty.optional(),
    passwordConnection: nonEmpty.optional(),
    consumerDomains: z.array(nonEmpty).optional(),
    maxAgeMs: milliseconds().optional(),
    staleIfErrorMs: millisecondsOrZero(86_400_000).optional(),
    timeoutMs: milliseconds().optional(),
  })
  .superRefine((config, ctx) => {
    const consumer = consumerDomainsOf(config)
    for (const [index, extra] of (config.consumerDomains ?? []).entries()) {
      if (canonicalDomain(extra) === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['consumerDomains', index],
          message: 'expected a domain',
        })
    }
    for (const key of Object.keys(config.domains ?? {})) {
      const domain = canonicalDomain(key)
      if (domain === undefined || consumer.has(domain)) {
        ctx.addIssue({
          code: 'custom',
          path: ['domains', key],
          message:
            domain === undefined
              ? 'expected an email domain such as acme.com'
              : 'a consumer mail domain cannot be mapped to SSO',
        })
      }
    }
    if (config.management !== undefined && config.clientId === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['clientId'],
        message:
          'required with discovery.management: only connections enabled for this client are used',
      })
    }
    const configured = configuredSources(config)
    for (const source of config.order ?? []) {
      if (!configured[source])
        ctx.addIssue({
          code: 'custom',
          path: ['order'],
          message: `source '${source}' is not configured`,
        })
    }
  })

function consumerDomainsOf(config: DiscoveryConfig): Set<string> {
  const domains = new Set(CONSUMER_DOMAINS)
  for (const extra of config.consumerDomains ?? []) {
    const domain = canonicalDomain(extra)
    if (domain !== undefined) domains.add(domain)
  }
  return domains
}

function configuredSources(config: DiscoveryConfig): Record<DiscoverySource, boolean> {
  return {
    static: true,
    resolver: config.resolver !== undefined,
    management: config.management !== undefined,
    webfinger: config.webfinger === true,
  }
}

/**
 * Fills in discovery defaults, for a configuration the schema accepted. `tenant` is the first
 * tenant: its `https://<domain>` (or its issuer's origin), where `/authorize` and WebFinger live,
 * and its domain, where the Management API lives unless `management.domain` says otherwise.
 */
export function resolveDiscovery(
  input: DiscoveryConfig | undefined,
  tenant: { origin: string; domain: string | undefined },
): ResolvedDiscovery {
  const config = input ?? {}
  const defaults = DEFAULTS.discovery
  const domains = new Map<string, DomainRule>()
  for (const [key, rule] of Object.entries(config.domains ?? {})) {
    domains.set(canonicalDomain(key) as string, rule)
  }
  const managementDomain = config.management?.domain ?? tenant.domain
  const configured = configuredSources(config)
  return {
    domains,
    order: (config.order ?? defaults.order).filter((source) => configured[source]),
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
      responseType: config.responseType ?? defaults.responseType,
      scope: config.scope ?? defaults.scope,
      audience: config.audience,
    },
    passwordConnection: config.passwordConnection,
    consumerDomains: consumerDomainsOf(config),
    maxAgeMs: config.maxAgeMs ?? defaults.maxAgeMs,
    staleIfErrorMs: config.staleIfErrorMs ?? defaults.staleIfErrorMs,
    timeoutMs: config.timeoutMs ?? defaults.timeoutMs,
  }
}
