import { z } from 'zod'
import { AuthError, isAuthError } from '../errors.js'
import { CONSUMER_DOMAINS } from '../lib/consumer-domains.js'
import { canonicalDomain, canonicalizeEmail } from '../lib/email.js'
import { hook, nonEmpty } from '../lib/schema-rules.js'
import { safeCause } from '../token-check-error.js'
import type { VerifiedToken } from '../types.js'

/**
 * The policy for linking an identity to a canonical user by email. An email is linked when the
 * token says it is verified (`email_verified: true`), or when the token comes from a trusted
 * enterprise connection and the email's domain is one that connection owns. `allow`, when given,
 * may then refuse.
 */
export interface TrustConfig {
  /**
   * Enterprise connections, each with the email domains its identity provider owns, e.g.
   * `{ 'acme-waad': ['acme.com', 'acme.co.uk'] }`. An email at one of those domains, from that
   * connection, is linked even when it is not marked verified; any other email needs
   * `email_verified: true`. Domains match exactly (list subdomains too). The connection is read
   * from `claims.connection`, or from an enterprise sub (`samlp|acme-waad|…`, `waad|…`, …), never
   * from a social or database one. Default none.
   */
  trustedConnections?: Readonly<Record<string, readonly string[]>> | undefined
  /**
   * Runs before the directory is asked to link an email (in `ensure` and `lookup` mode), after the
   * checks above passed; `false` refuses with `identity_untrusted` (403), and an {@link AuthError}
   * it throws is answered as is. Use it to admit only some domains or connections. It does not run
   * for the canonical-id claim, legacy tokens or users already in the cache (`cache.maxAgeMs`).
   */
  allow?: TrustHook | undefined
}

/** What {@link TrustConfig.allow} is asked about: an identity about to be linked by email. */
export interface LinkIdentity {
  /** The canonical email (see `canonicalizeEmail`). */
  readonly email: string
  /** Its domain, in ASCII. */
  readonly domain: string
  /** Whether the token (or `/userinfo`) marked the email verified. */
  readonly emailVerified: boolean
  /** The connection, when known. */
  readonly connection: string | undefined
  /** Whether a trusted connection vouched for the email's domain. */
  readonly trustedConnection: boolean
}

/** Decides whether an identity may be linked by email; see {@link TrustConfig.allow}. */
export type TrustHook = (identity: LinkIdentity, token: VerifiedToken) => boolean | Promise<boolean>

/** A trust policy, domains canonicalised. */
export interface ResolvedTrust {
  /** Connection → the email domains it owns. */
  readonly connections: ReadonlyMap<string, ReadonlySet<string>>
  readonly allow: TrustHook | undefined
}

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

export const trustSchema = z.strictObject({
  trustedConnections: z
    .record(
      nonEmpty,
      z.array(ownedDomain, { error: 'expected a list of the email domains it owns' }).min(1, {
        error: 'expected at least one email domain the connection owns',
      }),
      {
        error: (issue) =>
          Array.isArray(issue.input)
            ? 'expected an object of connection → the email domains it owns, e.g. ' +
              "{ 'acme-waad': ['acme.com'] }: a trusted connection vouches only for its own " +
              'domains, never for an email at another company'
            : "expected an object such as { 'acme-waad': ['acme.com'] }",
      },
    )
    .optional(),
  allow: hook<TrustHook>('a function allow(identity, token)').optional(),
})

// The schema has checked every domain canonicalises; here they take their canonical spelling.
export function resolveTrust(trust: TrustConfig | undefined): ResolvedTrust {
  const connections = new Map<string, ReadonlySet<string>>()
  for (const [connection, domains] of Object.entries(trust?.trustedConnections ?? {})) {
    connections.set(connection, new Set(domains.map((domain) => canonicalDomain(domain) as string)))
  }
  return { connections, allow: trust?.allow }
}

/** What the token (or `/userinfo`) says about the user's email. */
export interface EmailClaim {
  readonly email?: string | undefined
  readonly emailVerified?: boolean | undefined
}

/**
 * The identity to link by email, when the tenant's trust policy allows linking by it: a verified
 * email, or one at a domain the token's trusted connection owns; then `allow` decides. Throws
 * `identity_untrusted` otherwise.
 */
export async function linkableIdentity(
  claim: EmailClaim,
  verified: VerifiedToken,
  trust: ResolvedTrust,
): Promise<LinkIdentity> {
  const { email, emailVerified } = claim
  if (email === undefined) {
    throw new AuthError('identity_untrusted', 'The token carries no email to identify the user by')
  }
  const canonical = canonicalizeEmail(email)
  if (canonical === undefined) {
    throw new AuthError('identity_untrusted', 'The email address is not acceptable')
  }
  const connection = verified.connection
  // A trusted connection vouches only for the domains it owns, never for another company's.
  const trustedConnection =
    connection !== undefined && trust.connections.get(connection)?.has(canonical.domain) === true
  if (emailVerified !== true && !trustedConnection) {
    throw new AuthError(
      'identity_untrusted',
      'The email is not verified, and no trusted connection owns its domain',
    )
  }
  // Frozen: the allow hook is asked about this identity, and may not change what gets linked.
  const identity: LinkIdentity = Object.freeze({
    email: canonical.address,
    domain: canonical.domain,
    emailVerified: emailVerified === true,
    connection,
    trustedConnection,
  })
  if (trust.allow !== undefined) await askAllow(trust.allow, identity, verified)
  return identity
}

/** The `trust.allow` hook's verdict: only `true` lets the identity be linked. */
async function askAllow(
  allow: TrustHook,
  identity: LinkIdentity,
  verified: VerifiedToken,
): Promise<void> {
  let allowed: unknown
  try {
    allowed = await allow(identity, verified)
  } catch (error) {
    if (isAuthError(error)) throw error
    throw new AuthError('internal_error', 'The trust.allow hook failed', {
      cause: safeCause(error),
    })
  }
  if (allowed !== true) {
    throw new AuthError('identity_untrusted', 'The trust policy does not admit this identity')
  }
}
