/**
 * What {@link verifyAuth0Token} returns for a valid Auth0 access token.
 *
 * There is deliberately no `userId`: `subject` is the Auth0 sub, an external id such as
 * `waad|abc123`, and never a user id. The canonical user comes from `resolveCanonicalUser`.
 */
export interface VerifiedToken {
  /** The Auth0 `sub`: an external identity id, NEVER a user id. */
  readonly subject: string
  /** The `iss` claim, one of the configured issuers. */
  readonly issuer: string
  /** The `aud` claim, always as an array. */
  readonly audience: readonly string[]
  /** When the token expires. */
  readonly expiresAt: Date
  /** From the configured email claim, when it is a string. */
  readonly email?: string
  /** From the configured email-verified claim, when it is a boolean. */
  readonly emailVerified?: boolean
  /** The configured connection claim, else the middle part of a `strategy|connection|id` sub. */
  readonly connection?: string
  /** From the configured canonical-id claim, only when it holds a UUID (lower-cased). */
  readonly canonicalUserId?: string
  /** The space-separated `scope` claim, split. */
  readonly scopes: readonly string[]
  /** Auth0 RBAC `permissions`. */
  readonly permissions: readonly string[]
  /** Every claim of the token, as verified; typed with the claims declared on {@link TokenClaims}. */
  readonly claims: Readonly<TokenClaims>
}

/**
 * The claims of a verified token. Declare the ones your tenants issue, once, and every
 * `token.claims` and every `claims.check` rule is typed with them:
 *
 * @example
 * ```ts
 * declare module 'canonical-auth' {
 *   interface TokenClaims {
 *     org_id?: string
 *     'https://acme.example.com/roles'?: string[]
 *   }
 * }
 * ```
 */
export interface TokenClaims {
  readonly [claim: string]: unknown
}

/** The canonical user a verified identity resolves to. */
export interface CanonicalUser {
  /** The canonical user UUID: from the directory, the canonical-id claim, or the legacy hook. */
  readonly id: string
  /** The canonical email, when known. */
  readonly email?: string
  /** Where the id came from on this call. */
  readonly source: 'claim' | 'cache' | 'directory' | 'legacy'
  /** True when the directory created the user on this call. */
  readonly created: boolean
}

/** What `authenticate` (and the adapters) hand to a request handler. */
export interface AuthContext {
  /** The canonical user UUID. Never the Auth0 sub. */
  readonly userId: string
  readonly user: CanonicalUser
  /** The verified Auth0 token; absent for a legacy token. */
  readonly token?: VerifiedToken
  /** The proof of possession, when the token was presented with the DPoP scheme. */
  readonly dpop?: DpopBinding
}

/** What a request that presented its token with the DPoP scheme (RFC 9449) proved. */
export interface DpopBinding {
  /**
   * The RFC 7638 thumbprint of the key the token is bound to (its `cnf.jkt`), which signed the
   * request's proof.
   */
  readonly thumbprint: string
  /** The nonce for the client's next proof, which the adapters send as `DPoP-Nonce`. */
  readonly nonce?: string
}
