import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  ServerError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js'
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js'
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import {
  type Auth,
  type AuthContext,
  configuredAudienceOf,
  createGuard,
  isAuthError,
  metadataAnswer,
  protectedResourceOf,
  type RequireAuthOptions,
  requireProtectedResource,
} from '../core/http/index.js'

export type {
  ClaimRules,
  ClaimValue,
  RequireAuthOptions,
  ScopeRequirement,
} from '../core/http/index.js'

/** What {@link createMcpTokenVerifier} checks beyond the token itself, as `requireAuth` does. */
export type McpVerifierOptions = Pick<RequireAuthOptions, 'scopes' | 'permissions' | 'claims'>

/** What canonical-auth adds to the SDK's `AuthInfo.extra`. */
export interface McpAuthExtra {
  /** The canonical user UUID. Never the sub. */
  readonly userId: string
  /** The canonical user: id, email, where the id came from. */
  readonly user: AuthContext['user']
  [key: string]: unknown
}

/**
 * A token verifier for the MCP TypeScript SDK's `requireBearerAuth({ verifier })`: canonical-auth
 * verifies the access token and resolves its canonical user, with the same checks as `requireAuth`
 * (`scopes`, `permissions`, `claims`). The SDK's `AuthInfo` carries the client id (`azp`, else
 * `client_id`), the scopes, the expiry, `resource` (`protectedResource.resource`, which the token's
 * audience must then name: a token for another API of the tenant is refused; else the configured
 * audience the token was accepted for, when it is a URL), and in `extra` the canonical `userId` and
 * `user`.
 *
 * Refusals are the SDK's own errors, by status: 401 `InvalidTokenError`, 403
 * `InsufficientScopeError`, 400 `InvalidRequestError`, and 5xx (directory or key set unavailable)
 * `ServerError`, so the SDK answers each as it should. No token, claim or upstream body is in them.
 *
 * @example
 * ```ts
 * import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
 * import { protectedResourceMetadataUrl } from 'canonical-auth'
 * import { createMcpTokenVerifier } from 'canonical-auth/mcp'
 *
 * app.post('/mcp', requireBearerAuth({
 *   verifier: createMcpTokenVerifier(auth),
 *   resourceMetadataUrl: protectedResourceMetadataUrl(auth),
 * }), handleMcp)
 * ```
 */
export function createMcpTokenVerifier(
  auth: Auth,
  options: McpVerifierOptions = {},
): OAuthTokenVerifier {
  const guard = createGuard(auth, {
    ...(options.scopes === undefined ? {} : { scopes: options.scopes }),
    ...(options.permissions === undefined ? {} : { permissions: options.permissions }),
    ...(options.claims === undefined ? {} : { claims: options.claims }),
  })
  const configured = protectedResourceOf(auth)?.document.resource
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      let context: AuthContext | undefined
      try {
        context = await guard({ headers: { authorization: `Bearer ${token}` } })
      } catch (error) {
        throw sdkError(error)
      }
      if (context === undefined) throw new InvalidTokenError('No access token was presented')
      // RFC 8707 and the MCP authorization spec: a token is for this server only if its audience
      // names it. Without a configured resource nothing is claimed about the token's resource.
      if (configured !== undefined && !context.token?.audience.includes(configured)) {
        throw new InvalidTokenError('The access token was not issued for this resource')
      }
      // The resource: the configured one, else the configured audience the token was accepted for
      // (when it is a URL), never an audience the token names that nobody configured.
      const resource =
        configured ??
        (context.token === undefined ? undefined : configuredAudienceOf(auth, context.token))
      return authInfo(token, context, resource)
    },
  }
}

function authInfo(token: string, context: AuthContext, resource: string | undefined): AuthInfo {
  const verified = context.token
  const extra: McpAuthExtra = { userId: context.userId, user: context.user }
  const info: AuthInfo = {
    token,
    clientId: clientIdOf(verified?.claims),
    scopes: [...(verified?.scopes ?? [])],
    extra,
  }
  // A legacy token has no expiry here, and the SDK refuses it for that.
  if (verified !== undefined) info.expiresAt = Math.floor(verified.expiresAt.getTime() / 1000)
  if (resource !== undefined && /^https?:\/\//i.test(resource) && URL.canParse(resource)) {
    info.resource = new URL(resource)
  }
  return info
}

function clientIdOf(claims: Readonly<Record<string, unknown>> | undefined): string {
  if (typeof claims?.azp === 'string') return claims.azp
  if (typeof claims?.client_id === 'string') return claims.client_id
  return ''
}

/** The SDK's error for a refusal, by status, with canonical-auth's safe message. */
function sdkError(error: unknown): unknown {
  if (!isAuthError(error)) return error
  if (error.status === 401) return new InvalidTokenError(error.message)
  if (error.status === 403) return new InsufficientScopeError(error.message)
  if (error.status === 400) return new InvalidRequestError(error.message)
  return new ServerError(error.message)
}

/**
 * `GET` of the RFC 9728 protected resource metadata, as a plain Node handler (Express, Connect,
 * `node:http` alike) that declares nothing on `req`: in a program that also uses the SDK's
 * `requireBearerAuth`, whose types declare `req.auth` as its `AuthInfo`, it stays out of the way.
 * Mount it at the path of `protectedResourceMetadataUrl(auth)`.
 *
 * @throws TypeError when the instance has no `protectedResource`.
 * @example
 * ```ts
 * app.get(new URL(protectedResourceMetadataUrl(auth)).pathname, metadataHandler(auth))
 * ```
 */
export function metadataHandler(auth: Auth): (req: IncomingMessage, res: ServerResponse) => void {
  const { status, headers, body } = metadataAnswer(
    requireProtectedResource(auth, 'metadataHandler'),
  )
  const text = JSON.stringify(body)
  return (_req, res) => {
    res.writeHead(status, headers)
    res.end(text)
  }
}
