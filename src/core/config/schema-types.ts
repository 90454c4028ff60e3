// Compile-time ties between each schema and the public type it validates: a field added to one and
// not the other fails the build here. Nothing imports this file; the type check reads it.
import type { z } from 'zod'
import type { DiscoveryConfig, discoverySchema } from '../discovery/config.js'
import type { DpopConfig, dpopSchema } from '../dpop/config.js'
import type { TokenSourcesConfig, tokenSourcesSchema } from '../http/config.js'
import type { JwksConfig, jwksSchema } from '../jwks/config.js'
import type { LegacyConfig, legacySchema } from '../legacy.js'
import type {
  CacheConfig,
  CustomDirectoryConfig,
  cacheSchema,
  customDirectorySchema,
  HttpDirectoryConfig,
  httpDirectorySchema,
} from '../resolve/config.js'
import type { TrustConfig, trustSchema } from '../resolve/trust.js'
import type { ClaimsConfig, claimsSchema } from '../verify/config.js'
import type { Auth0TenantConfig, AuthConfig } from './config.js'
import type { configSchema, tenantSchema } from './schema.js'

// That each field is read as its type says is checked by the resolution, which takes the
// schema's output as the public types with no cast.
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
  Assert<Keys<typeof dpopSchema, DpopConfig>>,
]
