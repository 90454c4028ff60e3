import { z } from 'zod'
import { type DiscoveryConfig, discoverySchema } from '../discovery/config.js'
import type { AuthEventHook } from '../events.js'
import { type TokenSourcesConfig, tokenSourcesSchema } from '../http/config.js'
import { type JwksConfig, jwksSchema } from '../jwks/config.js'
import { type LegacyConfig, legacySchema } from '../legacy.js'
import { hook } from '../lib/schema-rules.js'
import {
  type CacheConfig,
  type CustomDirectoryConfig,
  cacheSchema,
  type customDirectorySchema,
  directorySchema,
  type HttpDirectoryConfig,
  type httpDirectorySchema,
  userinfoSchema,
} from '../resolve/config.js'
import type { UserCreatedHook } from '../resolve/resolve.js'
import { type TrustConfig, trustSchema } from '../resolve/trust.js'
import {
  type ClaimsConfig,
  claimsSchema,
  tenantVerifyShape,
  verifyShape,
} from '../verify/config.js'
import type { Auth0TenantConfig, AuthConfig } from './config.js'

const tenantSchema = z
  .strictObject({ ...tenantVerifyShape, trust: trustSchema.optional() })
  .refine((tenant) => tenant.domain !== undefined || tenant.issuer !== undefined, {
    error: 'expected a domain (or an issuer)',
    path: ['domain'],
  })

/**
 * The whole configuration, each concern's part from its own module. What it accepts is what
 * {@link AuthConfig} describes: the compiler checks that every field of one is a field of the other.
 */
export const configSchema = z
  .strictObject({
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
    claims: claimsSchema.optional(),
    jwks: jwksSchema.optional(),
    ...verifyShape,
    trust: trustSchema.optional(),
    cache: cacheSchema.optional(),
    userinfo: userinfoSchema.optional(),
    tokenSources: tokenSourcesSchema.optional(),
    onUserCreated: hook<UserCreatedHook>('a function onUserCreated(user, token)').optional(),
    onEvent: hook<AuthEventHook>('a function onEvent(event)').optional(),
    legacy: legacySchema.optional(),
    discovery: discoverySchema.optional(),
  })
  .superRefine((config, ctx) => {
    // The Management API lives on the first tenant's domain unless discovery names another.
    const first = config.auth0[0]
    if (
      config.discovery?.management !== undefined &&
      config.discovery.management.domain === undefined &&
      first?.domain === undefined
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['discovery', 'management', 'domain'],
        message: 'required when no auth0.domain is configured',
      })
    }
  })

/** What the schema hands on: the tenants always as a list. */
export type ParsedConfig = z.output<typeof configSchema>

// Compile-time ties between each schema and the public type it validates: a field added to one
// and not the other fails the build here. (That each field is read as its type says is checked by
// the resolution, which takes the schema's output as the public types with no cast.)
type Assert<T extends true> = T
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never]
  ? true
  : false
type Keys<Schema extends z.ZodType, Public> = SameKeys<NonNullable<z.input<Schema>>, Public>
export type SchemaMatchesTypes = [
  Assert<Keys<typeof configSchema, AuthConfig>>,
  Assert<Keys<typeof tenantSchema, Auth0TenantConfig>>,
  Assert<Keys<typeof claimsSchema, ClaimsConfig>>,
  Assert<Keys<typeof trustSchema, TrustConfig>>,
  Assert<Keys<typeof jwksSchema, JwksConfig>>,
  Assert<Keys<typeof cacheSchema, CacheConfig>>,
  Assert<Keys<typeof httpDirectorySchema, HttpDirectoryConfig>>,
  Assert<Keys<typeof customDirectorySchema, CustomDirectoryConfig>>,
  Assert<Keys<typeof tokenSourcesSchema, TokenSourcesConfig>>,
  Assert<Keys<typeof discoverySchema, DiscoveryConfig>>,
  Assert<Keys<typeof legacySchema, LegacyConfig>>,
]
