import { z } from 'zod'
import { discoverySchema } from '../discovery/config.js'
import { dpopSchema } from '../dpop/config.js'
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

/** Every option but `auth0`, each concern's part from its own module. */
const optionsShape = {
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
  dpop: dpopSchema.optional(),
}

/**
 * The whole configuration with its tenants listed. What it accepts is what {@link AuthConfig}
 * describes: the compiler checks that every field of one is a field of the other.
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
            "'https://api.example.com' }, a list of them, or a function (issuer) => tenant",
        })
        .min(1, { error: 'expected at least one tenant' }),
    ),
    ...optionsShape,
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

/**
 * The whole configuration with a tenant resolver (`auth0` as a function): no tenant is known
 * before a token names it, so whatever hangs off "the" tenant must be configured itself.
 */
export const resolverConfigSchema = z
  .strictObject({
    // Typed as AuthConfig's TenantResolver by schema-types.ts; its answers are checked per call.
    auth0: hook<(issuer: string) => unknown>('a function (issuer) => tenant'),
    ...optionsShape,
  })
  .superRefine((config, ctx) => {
    const needs = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message })
    const { discovery, protectedResource } = config
    if (discovery?.management !== undefined && discovery.management.domain === undefined) {
      needs(['discovery', 'management', 'domain'], 'required when auth0 is a function')
    }
    if (discovery?.webfinger === true) {
      needs(['discovery', 'webfinger'], 'needs a tenant, and auth0 is a function')
    }
    if (discovery?.clientId !== undefined && discovery.redirectUri !== undefined) {
      needs(
        ['discovery', 'clientId'],
        'an authorization URL needs a tenant, and auth0 is a function; leave clientId out',
      )
    }
    if (protectedResource !== undefined && protectedResource.authorizationServers === undefined) {
      needs(
        ['protectedResource', 'authorizationServers'],
        'required when auth0 is a function (no issuer is known in advance)',
      )
    }
  })

/** What the schema hands on: the tenants always as a list. */
export type ParsedConfig = z.output<typeof configSchema>
