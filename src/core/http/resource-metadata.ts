import { z } from 'zod'
import { DEFAULTS } from '../defaults.js'
import type { ResolvedDpop } from '../dpop/config.js'
import { nonEmpty, urlProblem } from '../lib/schema-rules.js'
import type { VerifiedToken } from '../types.js'
import type { HttpAnswer } from './answer.js'

/**
 * This service as an OAuth protected resource (RFC 9728): what its metadata document says, and
 * where clients find it.
 */
export interface ProtectedResourceConfig {
  /**
   * The resource identifier: the URL clients call this service at, `https:` (or `http:` on a
   * loopback host), without query or fragment, such as `https://api.example.com` or
   * `https://api.example.com/mcp`.
   */
  resource: string
  /**
   * The issuers published as `authorization_servers`. Default: the configured tenants' issuers,
   * exactly as configured; required when `auth0` is a function.
   */
  authorizationServers?: readonly string[] | undefined
  /** The scopes this resource understands, published as `scopes_supported`. */
  scopesSupported?: readonly string[] | undefined
  /** A name for people, published as `resource_name`. */
  resourceName?: string | undefined
  /** A page for developers, published as `resource_documentation`. */
  resourceDocumentation?: string | undefined
  /** How long clients and caches may keep the document, in seconds. Default 3 600. */
  maxAgeSeconds?: number | undefined
}

/**
 * The RFC 9728 protected resource metadata document. `authorization_servers` are the configured
 * issuers, exactly as configured.
 */
export interface ProtectedResourceMetadata {
  readonly resource: string
  readonly authorization_servers: readonly string[]
  readonly bearer_methods_supported: readonly ['header']
  readonly scopes_supported?: readonly string[]
  /** The algorithms a DPoP proof may use; absent when DPoP is disabled. */
  readonly dpop_signing_alg_values_supported?: readonly string[]
  /** `true` when only DPoP-bound tokens are accepted (`dpop.mode: 'required'`). */
  readonly dpop_bound_access_tokens_required?: true
  readonly resource_name?: string
  readonly resource_documentation?: string
}

/** What an instance keeps of its `protectedResource` configuration. */
export interface ResolvedProtectedResource {
  /** The document, frozen. */
  readonly document: ProtectedResourceMetadata
  /** Where the document is served: the well-known URL RFC 9728 §3.1 derives from `resource`. */
  readonly metadataUrl: string
  readonly maxAgeSeconds: number
}

const url = (what: string) =>
  z.string().superRefine((value, ctx) => {
    const problem = urlProblem(value)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
    else if (value.includes('?') || value.includes('#')) {
      ctx.addIssue({ code: 'custom', message: `${what} must not contain a query or a fragment` })
    }
  })

/**
 * The resource identifier in the one spelling clients compare (RFC 9728 §3.3: the document's
 * `resource` is the identifier its URL was derived from): lower-case host, no default port, no
 * dot segments, percent-encoded path. A bare origin may be written with or without its slash.
 */
function normalForm(resource: string): string {
  const { origin, pathname } = new URL(resource)
  return pathname === '/' && !resource.endsWith('/') ? origin : `${origin}${pathname}`
}

const resourceIdentifier = url('the resource identifier').superRefine((value, ctx) => {
  if (urlProblem(value) !== undefined || value.includes('?') || value.includes('#')) return
  const normal = normalForm(value)
  if (normal !== value) {
    ctx.addIssue({ code: 'custom', message: `write the resource identifier as ${normal}` })
  }
})

export const protectedResourceSchema = z.strictObject({
  resource: resourceIdentifier,
  authorizationServers: z
    .array(url('an authorization server'))
    .min(1, { error: 'expected at least one issuer' })
    .optional(),
  scopesSupported: z
    .array(nonEmpty.regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, { error: 'expected an OAuth scope' }))
    .optional(),
  resourceName: nonEmpty.optional(),
  resourceDocumentation: url('the documentation URL').optional(),
  maxAgeSeconds: z.number().int().min(0).max(86_400).optional(),
})

/** The document and its URL for a configuration, with the issuers that vouch for the resource. */
export function resolveProtectedResource(
  config: ProtectedResourceConfig | undefined,
  issuers: readonly string[],
  dpop: ResolvedDpop | undefined,
): ResolvedProtectedResource | undefined {
  if (config === undefined) return undefined
  const document: Record<string, unknown> = {
    resource: config.resource,
    authorization_servers: Object.freeze([...(config.authorizationServers ?? issuers)]),
    bearer_methods_supported: Object.freeze(['header']),
  }
  if (config.scopesSupported !== undefined) {
    document.scopes_supported = Object.freeze([...config.scopesSupported])
  }
  if (dpop !== undefined) {
    document.dpop_signing_alg_values_supported = dpop.algorithms
    if (dpop.required) document.dpop_bound_access_tokens_required = true
  }
  if (config.resourceName !== undefined) document.resource_name = config.resourceName
  if (config.resourceDocumentation !== undefined) {
    document.resource_documentation = config.resourceDocumentation
  }
  return {
    document: Object.freeze(document) as unknown as ProtectedResourceMetadata,
    metadataUrl: metadataUrlFor(config.resource),
    maxAgeSeconds: config.maxAgeSeconds ?? DEFAULTS.protectedResource.maxAgeSeconds,
  }
}

/**
 * RFC 9728 §3.1: `/.well-known/oauth-protected-resource` goes between the host and the path of
 * the resource identifier, the path kept as it is (only a lone `/` after the host is dropped):
 * `https://api.example.com/mcp` → `https://api.example.com/.well-known/oauth-protected-resource/mcp`.
 */
export function metadataUrlFor(resource: string): string {
  const { origin, pathname } = new URL(resource)
  return `${origin}/.well-known/oauth-protected-resource${pathname === '/' ? '' : pathname}`
}

/**
 * The member of every `createAuth` instance that holds its resolved `protectedResource` (or
 * `undefined`). A symbol from the global registry, so that the ESM and CommonJS copies of the
 * package agree on it.
 */
export const PROTECTED_RESOURCE: unique symbol = Symbol.for('canonical-auth.protected-resource')

/** What an instance with {@link PROTECTED_RESOURCE} offers. */
export interface HasProtectedResource {
  readonly [PROTECTED_RESOURCE]: ResolvedProtectedResource | undefined
}

/**
 * The member of every `createAuth` instance that names the configured audience a verified token
 * was accepted for: the first of its tenant's audiences that the token's `aud` names.
 */
export const TOKEN_AUDIENCE: unique symbol = Symbol.for('canonical-auth.token-audience')

/** What an instance with {@link TOKEN_AUDIENCE} offers. */
export interface HasTokenAudience {
  [TOKEN_AUDIENCE](verified: VerifiedToken): string | undefined
}

/** The configured audience `verified` was accepted for by `auth`, if `auth` verified it. */
export function configuredAudienceOf(auth: unknown, verified: VerifiedToken): string | undefined {
  if (typeof auth !== 'object' || auth === null) return undefined
  return (auth as Partial<HasTokenAudience>)[TOKEN_AUDIENCE]?.(verified)
}

/** The instance's resolved `protectedResource`, if it has one. */
export function protectedResourceOf(auth: unknown): ResolvedProtectedResource | undefined {
  if (typeof auth !== 'object' || auth === null) return undefined
  return (auth as Partial<HasProtectedResource>)[PROTECTED_RESOURCE]
}

/**
 * The instance's resolved `protectedResource`; a `TypeError` when it has none, for a handler set
 * up to serve a document nobody configured.
 */
export function requireProtectedResource(auth: unknown, what: string): ResolvedProtectedResource {
  const resolved = protectedResourceOf(auth)
  if (resolved === undefined) {
    throw new TypeError(
      `canonical-auth: ${what} needs protectedResource in createAuth, such as ` +
        "protectedResource: { resource: 'https://api.example.com' }",
    )
  }
  return resolved
}

/**
 * The RFC 9728 protected resource metadata of an instance: `resource`, `authorization_servers`
 * (the configured issuers, exactly as configured), `bearer_methods_supported`, and the optional
 * fields configured. For a framework without an adapter; the adapters serve it themselves.
 *
 * @throws TypeError when the instance has no `protectedResource` configured.
 * @example
 * ```ts
 * const auth = createAuth({ auth0, protectedResource: { resource: 'https://api.example.com' } })
 * protectedResourceMetadata(auth).authorization_servers // ['https://tenant.eu.auth0.com/']
 * ```
 */
export function protectedResourceMetadata(auth: object): ProtectedResourceMetadata {
  return requireProtectedResource(auth, 'protectedResourceMetadata').document
}

/**
 * Where an instance's protected resource metadata is served: the well-known URL RFC 9728 §3.1
 * derives from `protectedResource.resource` (what every challenge's `resource_metadata` names).
 * Its path is where to mount the metadata handler; an MCP server passes it to the SDK.
 *
 * @throws TypeError when the instance has no `protectedResource` configured.
 * @example
 * ```ts
 * protectedResourceMetadataUrl(auth) // 'https://api.example.com/.well-known/oauth-protected-resource/mcp'
 * ```
 */
export function protectedResourceMetadataUrl(auth: object): string {
  return requireProtectedResource(auth, 'protectedResourceMetadataUrl').metadataUrl
}

/** The answer to `GET` of the metadata document: public, cacheable, readable from any origin. */
export function metadataAnswer(resolved: ResolvedProtectedResource): HttpAnswer {
  return {
    status: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': `public, max-age=${resolved.maxAgeSeconds}`,
      'access-control-allow-origin': '*',
    },
    body: resolved.document,
  }
}
