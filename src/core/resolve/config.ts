import { z } from 'zod'
import { DEFAULTS } from '../defaults.js'
import { keysAt, unknownKey } from '../lib/config-hints.js'
import {
  hook,
  implementation,
  milliseconds,
  millisecondsOrZero,
  nonEmpty,
  urlProblem,
} from '../lib/schema-rules.js'
import type { CircuitBreakerOptions } from './circuit-breaker.js'
import type { DirectoryHeaders, HttpDirectoryOptions, UserDirectory } from './directory.js'
import type { UserCacheStore } from './user-cache.js'

/** The user directory: its HTTP endpoint, or any {@link UserDirectory}. */
export type DirectoryConfig = HttpDirectoryConfig | CustomDirectoryConfig

/** The user directory's HTTP endpoint (the wire contract). */
export interface HttpDirectoryConfig {
  /**
   * Base URL of the directory: `https:`, or `http:` for a loopback host (`localhost`,
   * `127.0.0.0/8`, `[::1]`) only, unless `allowInsecureHttp` is set.
   */
  baseUrl: string
  /**
   * Accept an `http:` base URL on a host that is not loopback. The directory's answers decide who
   * a user is and the service credential travels with each call, so set this only where the
   * network itself encrypts and authenticates traffic (a service mesh with mutual TLS). Default
   * false.
   */
  allowInsecureHttp?: boolean | undefined
  /** `ensure` (get-or-create, default) or `lookup` (read-only: a missing user is `user_not_provisioned`). */
  mode?: 'ensure' | 'lookup' | undefined
  /** Headers sent with each call, e.g. the service credential; or a function returning them per call. */
  headers?: DirectoryHeaders | undefined
  /** Timeout of one attempt, in milliseconds. Default 3 000. */
  timeoutMs?: number | undefined
  /** Overall deadline for a resolution, retries included, in milliseconds. Default 5 000. */
  deadlineMs?: number | undefined
  /** Retries after the first attempt (network errors, 408, 429, 5xx; `Retry-After` honoured). Default 2. */
  retries?: number | undefined
  /** Path overrides. Defaults `/api/v1/users/ensure` and `/admin/user/{email}`. */
  paths?: { ensure?: string | undefined; lookup?: string | undefined } | undefined
  /**
   * The circuit breaker around the directory: after `failureThreshold` calls in a row that found
   * it out (no answer, a 5xx, 408/429 after retries; never an answer about one user) (default 5)
   * calls are refused at once with `directory_unavailable` and `Retry-After` for
   * `resetTimeoutMs` (default 10 000), then one probe call decides. `false` turns it off.
   */
  circuitBreaker?: CircuitBreakerConfig | false | undefined
}

/** Your own implementation of the directory calls. */
export interface CustomDirectoryConfig {
  client: UserDirectory
  /** `ensure` (default) or `lookup`. */
  mode?: 'ensure' | 'lookup' | undefined
  /** Overall deadline for a resolution, in milliseconds. Default 5 000. */
  deadlineMs?: number | undefined
  /** The circuit breaker around the directory, as for {@link HttpDirectoryConfig.circuitBreaker}. */
  circuitBreaker?: CircuitBreakerConfig | false | undefined
}

/** Settings of the directory circuit breaker. */
export interface CircuitBreakerConfig {
  /** Consecutive calls that found the directory out that open the circuit. Default 5. */
  failureThreshold?: number | undefined
  /** How long it stays open before one probe call is let through, in milliseconds. Default 10 000. */
  resetTimeoutMs?: number | undefined
}

/** The issuer+sub → canonical user cache. */
export interface CacheConfig {
  /** How long a resolved user is reused, in milliseconds. Default 300 000 (5 min). */
  maxAgeMs?: number | undefined
  /** Most users kept in memory. Default 10 000. */
  max?: number | undefined
  /** How long a read-only lookup miss is remembered, in milliseconds (0: never). Default 10 000. */
  negativeMaxAgeMs?: number | undefined
  /** A store shared between replicas (e.g. Redis), behind the in-memory cache. */
  store?: UserCacheStore | undefined
  /** A store call slower than this counts as a miss, in milliseconds. Default 200. */
  storeTimeoutMs?: number | undefined
  /**
   * Verification results by exact token, so a token presented again skips the signature check:
   * never used past the token's `exp` or `maxAgeMs` after it was verified. `false` turns it off.
   * Default `{ max: 10_000, maxAgeMs: 60_000 }`.
   */
  tokens?: false | { max?: number | undefined; maxAgeMs?: number | undefined } | undefined
  /**
   * The answers of a tenant resolver (`auth0` as a function), by issuer: a tenant for `maxAgeMs`
   * (and through a resolver outage for `jwks.staleIfErrorMs` more), a refusal for
   * `negativeMaxAgeMs`, at most `max` of each; one resolver call may take `timeoutMs`. Default
   * `{ max: 1_000, maxAgeMs: 300_000, negativeMaxAgeMs: 60_000, timeoutMs: 5_000 }`.
   */
  tenants?:
    | {
        max?: number | undefined
        maxAgeMs?: number | undefined
        negativeMaxAgeMs?: number | undefined
        timeoutMs?: number | undefined
      }
    | undefined
}

/** `/userinfo` settings; `true` takes the defaults. */
export type UserinfoConfig = boolean | { timeoutMs?: number | undefined }

/** The directory settings, defaults filled in. */
export interface ResolvedDirectory {
  readonly mode: 'ensure' | 'lookup'
  readonly deadlineMs: number
  /** The HTTP settings, or undefined for a custom client. */
  readonly http: HttpDirectoryOptions | undefined
  readonly client: UserDirectory | undefined
  /** undefined: the breaker is off. */
  readonly circuitBreaker: CircuitBreakerOptions | undefined
}

/** The cache settings, defaults filled in. */
export interface ResolvedCache {
  readonly maxAgeMs: number
  readonly max: number
  readonly negativeMaxAgeMs: number
  readonly storeTimeoutMs: number
  readonly store: UserCacheStore | undefined
  /** undefined: the verification cache is off. */
  readonly tokens: { readonly max: number; readonly maxAgeMs: number } | undefined
  readonly tenants: {
    readonly max: number
    readonly maxAgeMs: number
    readonly negativeMaxAgeMs: number
    readonly timeoutMs: number
  }
}

const headersSchema = z.union(
  [
    z.record(z.string(), z.string()),
    hook<Exclude<DirectoryHeaders, Readonly<Record<string, string>>>>('a function'),
  ],
  { error: 'expected an object of header strings or a function returning one' },
)

const pathSchema = nonEmpty.refine((value) => value.startsWith('/'), {
  error: "expected a path starting with '/'",
})

const circuitBreakerSchema = z.union([
  z.literal(false),
  z.strictObject({
    failureThreshold: z.number().int().min(1).max(1_000).optional(),
    resetTimeoutMs: z.number().int().min(100).max(3_600_000).optional(),
  }),
])

const mode = z.enum(['ensure', 'lookup'])

export const httpDirectorySchema = z
  .strictObject({
    baseUrl: z.string({ error: 'expected an https: URL' }),
    allowInsecureHttp: z.boolean().optional(),
    mode: mode.optional(),
    headers: headersSchema.optional(),
    timeoutMs: milliseconds().optional(),
    deadlineMs: milliseconds().optional(),
    retries: z.number().int().min(0).max(10).optional(),
    circuitBreaker: circuitBreakerSchema.optional(),
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

export const customDirectorySchema = z.strictObject({
  client: implementation<UserDirectory>(
    ['ensure', 'lookup'],
    'an object with ensure() and lookup() methods (UserDirectory)',
  ),
  mode: mode.optional(),
  deadlineMs: milliseconds().optional(),
  circuitBreaker: circuitBreakerSchema.optional(),
})

/**
 * Either shape of directory, picked by its key (`client` or not), so that errors name the fields
 * of the shape the user meant rather than a union's.
 */
export const directorySchema = z.custom<DirectoryConfig>().superRefine((value, ctx) => {
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

export const cacheSchema = z.strictObject({
  maxAgeMs: milliseconds().optional(),
  max: z.number().int().min(1).max(10_000_000).optional(),
  negativeMaxAgeMs: millisecondsOrZero(3_600_000).optional(),
  store: implementation<UserCacheStore>(
    ['get', 'set', 'delete'],
    'an object with get(), set() and delete() methods (UserCacheStore)',
  ).optional(),
  storeTimeoutMs: milliseconds().optional(),
  tokens: z
    .union(
      [
        z.literal(false),
        z.strictObject({
          max: z.number().int().min(1).max(10_000_000).optional(),
          maxAgeMs: milliseconds().optional(),
        }),
      ],
      { error: 'expected false or { max?, maxAgeMs? }' },
    )
    .optional(),
  tenants: z
    .strictObject({
      max: z.number().int().min(1).max(1_000_000).optional(),
      maxAgeMs: milliseconds().optional(),
      negativeMaxAgeMs: milliseconds(3_600_000).optional(),
      timeoutMs: milliseconds(60_000).optional(),
    })
    .optional(),
})

export const userinfoSchema = z.union([
  z.boolean(),
  z.strictObject({ timeoutMs: milliseconds().optional() }),
])

export function resolveDirectory(
  directory: DirectoryConfig | undefined,
): ResolvedDirectory | undefined {
  if (directory === undefined) return undefined
  const defaults = DEFAULTS.directory
  const mode = directory.mode ?? defaults.mode
  const deadlineMs = directory.deadlineMs ?? defaults.deadlineMs
  const circuitBreaker =
    directory.circuitBreaker === false
      ? undefined
      : {
          failureThreshold:
            directory.circuitBreaker?.failureThreshold ?? defaults.circuitBreaker.failureThreshold,
          resetTimeoutMs:
            directory.circuitBreaker?.resetTimeoutMs ?? defaults.circuitBreaker.resetTimeoutMs,
        }
  if ('client' in directory) {
    return { mode, deadlineMs, http: undefined, client: directory.client, circuitBreaker }
  }
  return {
    mode,
    deadlineMs,
    circuitBreaker,
    client: undefined,
    http: {
      baseUrl: directory.baseUrl,
      headers: directory.headers,
      timeoutMs: directory.timeoutMs ?? defaults.timeoutMs,
      retries: directory.retries ?? defaults.retries,
      deadlineMs,
      paths: {
        ensure: directory.paths?.ensure ?? defaults.paths.ensure,
        lookup: directory.paths?.lookup ?? defaults.paths.lookup,
      },
    },
  }
}

export function resolveCache(cache: CacheConfig | undefined): ResolvedCache {
  const defaults = DEFAULTS.cache
  const tokens = cache?.tokens
  return {
    maxAgeMs: cache?.maxAgeMs ?? defaults.maxAgeMs,
    max: cache?.max ?? defaults.max,
    negativeMaxAgeMs: cache?.negativeMaxAgeMs ?? defaults.negativeMaxAgeMs,
    storeTimeoutMs: cache?.storeTimeoutMs ?? defaults.storeTimeoutMs,
    store: cache?.store,
    tokens:
      tokens === false
        ? undefined
        : {
            max: tokens?.max ?? defaults.tokens.max,
            maxAgeMs: tokens?.maxAgeMs ?? defaults.tokens.maxAgeMs,
          },
    tenants: {
      max: cache?.tenants?.max ?? defaults.tenants.max,
      maxAgeMs: cache?.tenants?.maxAgeMs ?? defaults.tenants.maxAgeMs,
      negativeMaxAgeMs: cache?.tenants?.negativeMaxAgeMs ?? defaults.tenants.negativeMaxAgeMs,
      timeoutMs: cache?.tenants?.timeoutMs ?? defaults.tenants.timeoutMs,
    },
  }
}

export function resolveUserinfo(
  userinfo: UserinfoConfig | undefined,
): { readonly timeoutMs: number } | undefined {
  if (userinfo === undefined || userinfo === false) return undefined
  return {
    timeoutMs: (userinfo === true ? undefined : userinfo.timeoutMs) ?? DEFAULTS.userinfo.timeoutMs,
  }
}
