import { z } from 'zod'
import { discoverySchema } from '../discovery/config.js'
import type { AuthEventHook } from '../events.js'
import { tokenSourcesSchema } from '../http/config.js'
import { protectedResourceSchema } from '../http/resource-metadata.js'
import { jwksSchema } from '../jwks/config.js'
import { legacySchema } from '../legacy.js'
import { hook } from '../lib/schema-rules.js'
import { cacheSchema, directorySchema, userinfoSchema } from '../resolve/config.js'
import type { UserCreatedHook } from '../resolve/resolve.js'
import { trustSchema } from '../resolve/trust.js'
import { claimsSchema, tenantVerifyShape, verifyShape } from '../verify/config.js'

export const tenantSchema = z
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
    protectedResource: protectedResourceSchema.optional(),
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
