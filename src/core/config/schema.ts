import { z } from 'zod'
import { canonicalDomain } from '../discovery/config.js'
import { CONSUMER_DOMAINS } from '../lib/consumer-domains.js'
import { isLoopbackHost } from '../lib/loopback-host.js'
import { keysAt, unknownKey } from './hints.js'

/** Asymmetric JWS algorithms a tenant may allow. HS* and `none` are never accepted. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const

const HOST =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i

const nonEmpty = z.string().trim().min(1, { error: 'expected a non-empty string' })

const domain = z.string().refine((value) => HOST.test(value), {
  error: (issue) =>
    typeof issue.input === 'string' && issue.input.includes('://')
      ? "expected a host name such as 'tenant.eu.auth0.com', not a URL"
      : "expected a host name such as 'tenant.eu.auth0.com'",
})

/** How {@link urlProblem} treats plain `http:`. */
interface HttpPolicy {
  /** Accept `http:` on any host, not only a loopback one. */
  readonly anyHost?: boolean
  /** Said after the refusal of `http:` on a host that is not loopback: how to allow it. */
  readonly advice?: string
}

/**
 * The problem with a URL that should be an absolute `https:` URL (or `http:` for a loopback host,
 * or for any host when the policy says so), or undefined when there is none.
 */
function urlProblem(value: unknown, http: HttpPolicy = {}): string | undefined {
  let url: URL
  try {
    url = new URL(value as string)
  } catch {
    return 'expected an absolute URL'
  }
  if (url.username || url.password) return 'must not contain credentials'
  if (url.hash) return 'must not contain a fragment'
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'expected an https: URL'
  if (url.protocol === 'http:' && http.anyHost !== true && !isLoopbackHost(url.hostname)) {
    return `http: is accepted only for a loopback host (localhost, 127.0.0.0/8, [::1]); use https:${http.advice ?? ''}`
  }
  return undefined
}

/** An absolute `https:` URL, or `http:` only for a loopback host. */
const secureUrl = z.string().superRefine((value, ctx) => {
  const problem = urlProblem(value)
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
})

const algorithm = z.string().superRefine((value, ctx) => {
  if ((ASYMMETRIC_ALGORITHMS as readonly string[]).includes(value)) return
  const reason = /^HS/i.test(value)
    ? `${value} is a symmetric algorithm and is never accepted`
    : value.toLowerCase() === 'none'
      ? 'unsigned tokens (none) are never accepted'
      : `unsupported algorithm '${value}'; expected one of ${ASYMMETRIC_ALGORITHMS.join(', ')}`
  ctx.addIssue({ code: 'custom', message: reason })
})

const claimName = nonEmpty.optional()

const claimsSchema = z
  .strictObject({
    canonicalUserId: claimName,
    email: claimName,
    emailVerified: claimName,
    connection: claimName,
  })
  .optional()

const consumerDomains = new Set(CONSUMER_DOMAINS)

const ownedDomain = z.string().superRefine((value, ctx) => {
  const domain = canonicalDomain(value)
  if (domain === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected an email domain such as acme.com' })
  } else if (consumerDomains.has(domain)) {
    ctx.addIssue({
      code: 'custom',
      message: `${domain} is a consumer mail domain; no enterprise connection owns it`,
    })
  }
})

const trustedConnectionsSchema = z.record(
  nonEmpty,
  z.array(ownedDomain, { error: 'expected a list of the email domains it owns' }).min(1, {
    error: 'expected at least one email domain the connection owns',
  }),
  {
    error: (issue) =>
      Array.isArray(issue.input)
        ? 'expected an object of connection → the email domains it owns, e.g. ' +
          "{ 'acme-waad': ['acme.com'] }: a trusted connection vouches only for its own domains, " +
          'never for an email at another company'
        : "expected an object such as { 'acme-waad': ['acme.com'] }",
  },
)

const trustSchema = z
  .strictObject({
    trustedConnections: trustedConnectionsSchema.optional(),
    allow: z
      .custom<(...args: unknown[]) => unknown>((value) => typeof value === 'function', {
        error: 'expected a function allow(identity, token)',
      })
      .optional(),
  })
  .optional()

const tenantSchema = z
  .strictObject({
    domain: domain.optional(),
    issuer: secureUrl.optional(),
    jwksUri: secureUrl.optional(),
    audience: z.union(
      [nonEmpty, z.array(nonEmpty).min(1, { error: 'expected at least one audience' })],
      {
        error: 'expected a string or a non-empty array of strings',
      },
    ),
    algorithms: z.array(algorithm).min(1, { error: 'expected at least one algorithm' }).optional(),
    clockToleranceSeconds: z.number().int().min(0).max(300).optional(),
    maxTokenAgeSeconds: z.number().int().positive().max(31_536_000).optional(),
    requireAccessTokenType: z.boolean().optional(),
    claims: claimsSchema,
    trust: trustSchema,
  })
  .refine((tenant) => tenant.domain !== undefined || tenant.issuer !== undefined, {
    error: 'expected a domain (or an issuer)',
    path: ['domain'],
  })

const positiveMs = z.number().int().positive().max(86_400_000).optional()

const fn = <T>(what: string) =>
  z.custom<T>((value) => typeof value === 'function', { error: `expected ${what}` })

const headersSchema = z.union(
  [z.record(z.string(), z.string()), fn<() => Record<string, string>>('a function')],
  { error: 'expected an object of header strings or a function returning one' },
)

const pathSchema = nonEmpty.refine((value) => value.startsWith('/'), {
  error: "expected a path starting with '/'",
})

const circuitBreakerSchema = z
  .union([
    z.literal(false),
    z.strictObject({
      failureThreshold: z.number().int().min(1).max(1_000).optional(),
      resetTimeoutMs: z.number().int().min(100).max(3_600_000).optional(),
    }),
  ])
  .optional()

const httpDirectorySchema = z
  .strictObject({
    baseUrl: z.string({ error: 'expected an https: URL' }),
    allowInsecureHttp: z.boolean().optional(),
    mode: z.enum(['ensure', 'lookup']).optional(),
    headers: headersSchema.optional(),
    timeoutMs: positiveMs,
    deadlineMs: positiveMs,
    retries: z.number().int().min(0).max(10).optional(),
    circuitBreaker: circuitBreakerSchema,
    paths: z
      .strictObject({
        ensure: pathSchema.optional(),
        lookup: pathSchema
          .refine((value) => value.includes('{email}'), {
            error: 'expected a path containing {email}',
          })
          .optional(),
      })
      .optional(),
  })
  .superRefine((directory, ctx) => {
    const problem = urlProblem(directory.baseUrl, {
      anyHost: directory.allowInsecureHttp === true,
      advice:
        ', or set directory.allowInsecureHttp: true where the network itself is trusted (a ' +
        'service mesh that encrypts and authenticates traffic)',
    })
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: problem })
  })

const clientSchema = z.custom<{ ensure: unknown; lookup: unknown }>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { ensure?: unknown }).ensure === 'function' &&
    typeof (value as { lookup?: unknown }).lookup === 'function',
  { error: 'expected an object with ensure() and lookup() methods (UserDirectory)' },
)

const customDirectorySchema = z.strictObject({
  client: clientSchema,
  mode: z.enum(['ensure', 'lookup']).optional(),
  deadlineMs: positiveMs,
  circuitBreaker: circuitBreakerSchema,
})

// Pick the shape by its key, so errors name the fields of the shape the user meant.
const directorySchema = z.unknown().superRefine((value, ctx) => {
  const custom = typeof value === 'object' && value !== null && 'client' in value
  const schema = custom ? customDirectorySchema : httpDirectorySchema
  const parsed = schema.safeParse(value)
  if (parsed.success) return
  for (const issue of parsed.error.issues) {
    if (issue.code !== 'unrecognized_keys') {
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path })
      continue
    }
    const known = keysAt(schema as never, issue.path)
    for (const key of issue.keys)
      ctx.addIssue({ code: 'custom', message: unknownKey(key, known), path: issue.path })
  }
})

const storeSchema = z.custom<{ get: unknown }>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    ['get', 'set', 'delete'].every(
      (name) => typeof (value as Record<string, unknown>)[name] === 'function',
    ),
  { error: 'expected an object with get(), set() and delete() methods (UserCacheStore)' },
)

export const configSchema = z.strictObject({
  // One tenant or several: normalised to a list so a single tenant's errors name its fields.
  auth0: z.preprocess(
    (value) => (Array.isArray(value) || value === undefined ? value : [value]),
    z
      .array(tenantSchema, {
        error:
          "expected a tenant object such as { domain: 'tenant.eu.auth0.com', audience: " +
          "'https://api.example.com' }, or a list of them",
      })
      .min(1, { error: 'expected at least one tenant' }),
  ),
  directory: directorySchema.optional(),
  claims: claimsSchema,
  jwks: z
    .strictObject({
      timeoutMs: positiveMs,
      cacheMaxAgeMs: positiveMs,
      cooldownMs: positiveMs,
      staleIfErrorMs: z.number().int().min(0).max(604_800_000).optional(),
    })
    .optional(),
  maxTokenLength: z.number().int().min(1024).max(65_536).optional(),
  signatureCheck: z.enum(['auto', 'jose']).optional(),
  trust: trustSchema,
  cache: z
    .strictObject({
      ttlMs: positiveMs,
      max: z.number().int().min(1).max(10_000_000).optional(),
      negativeTtlMs: z.number().int().min(0).max(3_600_000).optional(),
      store: storeSchema.optional(),
      storeTimeoutMs: positiveMs,
      tokens: z
        .union(
          [
            z.literal(false),
            z.strictObject({
              max: z.number().int().min(1).max(10_000_000).optional(),
              ttlMs: positiveMs,
            }),
          ],
          {
            error: 'expected false or { max?, ttlMs? }',
          },
        )
        .optional(),
    })
    .optional(),
  userinfo: z.union([z.boolean(), z.strictObject({ timeoutMs: positiveMs })]).optional(),
  tokenSources: z
    .strictObject({
      bearer: z.boolean().optional(),
      headers: z
        .array(nonEmpty.regex(/^[A-Za-z0-9-]+$/, { error: 'expected a header name' }))
        .optional(),
    })
    .refine((sources) => sources.bearer !== false || (sources.headers?.length ?? 1) > 0, {
      error: 'at least one token source must be enabled',
    })
    .optional(),
  discovery: z
    .strictObject({
      domains: z
        .record(
          z.string(),
          z.strictObject(
            { connection: nonEmpty, organization: nonEmpty.optional() },
            {
              error: 'expected { connection, organization? }',
            },
          ),
        )
        .optional(),
      order: z
        .array(z.enum(['static', 'resolver', 'management', 'webfinger']))
        .min(1)
        .refine((order) => new Set(order).size === order.length, {
          error: 'expected each source once',
        })
        .optional(),
      management: z
        .strictObject({
          clientId: nonEmpty,
          clientSecret: nonEmpty,
          domain: domain.optional(),
        })
        .optional(),
      webfinger: z.boolean().optional(),
      resolver: fn<(...args: unknown[]) => unknown>(
        'a function resolver(domain, email)',
      ).optional(),
      clientId: nonEmpty.optional(),
      redirectUri: secureUrl.optional(),
      responseType: nonEmpty.optional(),
      scope: nonEmpty.optional(),
      audience: nonEmpty.optional(),
      passwordConnection: nonEmpty.optional(),
      consumerDomains: z.array(nonEmpty).optional(),
      cacheTtlMs: positiveMs,
      staleTtlMs: z.number().int().min(0).max(86_400_000).optional(),
      timeoutMs: positiveMs,
      rateLimit: fn<(...args: unknown[]) => unknown>('a function rateLimit(client)').optional(),
    })
    .optional(),
  onUserCreated: fn<(...args: unknown[]) => unknown>('a function').optional(),
  onEvent: fn<(...args: unknown[]) => unknown>('a function onEvent(event)').optional(),
  legacy: z
    .strictObject({ verify: fn<(token: string) => unknown>('a function verify(token)') })
    .optional(),
})
