import type { FastifyPluginAsync, FastifyReply, preHandlerHookHandler } from 'fastify'
import {
  type Auth,
  type AuthContext,
  createGuard,
  type DiscoverHandlerOptions,
  errorAnswer,
  type HttpAnswer,
  handleDiscoverRequest,
  metadataAnswer,
  notJsonAnswer,
  type RequireAuthOptions,
  requestUrl,
  requireProtectedResource,
} from '../core/http/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** A preHandler that authenticates the request and sets `request.auth`. */
    requireAuth(options?: RequireAuthOptions): preHandlerHookHandler
  }
  interface FastifyRequest {
    /** Set by `requireAuth`: the canonical user. Absent on an optional route without a token. */
    auth?: AuthContext
  }
}

export type {
  ClaimRules,
  ClaimValue,
  DiscoverHandlerOptions,
  ProtectedResourceMetadata,
  RateLimitDecision,
  RateLimitHook,
  RequireAuthOptions,
  ScopeRequirement,
} from '../core/http/index.js'

/** Options of the canonical-auth Fastify plugin. */
export interface CanonicalAuthPluginOptions {
  /** The instance from `createAuth`. */
  auth: Auth
  /** Where to mount `POST` discovery, e.g. `/public/auth/discover`. Not mounted when absent. */
  discoverPath?: string
  /** Options of the discover endpoint mounted at `discoverPath`, e.g. its `rateLimit`. */
  discover?: DiscoverHandlerOptions
  /**
   * Where to serve `GET` of the RFC 9728 protected resource metadata, e.g.
   * `/.well-known/oauth-protected-resource` (followed by the resource identifier's path when it
   * has one). Needs `protectedResource` in `createAuth`. Not served when absent.
   */
  metadataPath?: string
}

function send(reply: FastifyReply, answer: HttpAnswer): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).send(JSON.stringify(answer.body))
}

const plugin: FastifyPluginAsync<CanonicalAuthPluginOptions> = async (
  fastify,
  { auth, discoverPath, discover, metadataPath },
) => {
  if (auth === undefined) throw new TypeError('canonical-auth: the fastify plugin needs { auth }')
  if (fastify.hasDecorator('requireAuth')) {
    throw new Error(
      'canonical-auth: the plugin is already registered in this context; one Auth serves several ' +
        'tenants (auth0: [...]), or register it in sibling encapsulated contexts',
    )
  }
  if (!fastify.hasRequestDecorator('auth')) fastify.decorateRequest('auth', undefined)
  fastify.decorate('requireAuth', (options: RequireAuthOptions = {}): preHandlerHookHandler => {
    const guard = createGuard(auth, options)
    return (request, reply, done) => {
      // Only a request with a DPoP proof needs its method and URL (protocol and host honour
      // X-Forwarded-* only under the server's trustProxy). `request.headers` is a getter: read once.
      const headers = request.headers
      const result = guard(
        headers.dpop === undefined
          ? { headers }
          : {
              headers,
              method: request.method,
              url: () => requestUrl(request.protocol, request.host, request.url),
            },
      )
      // A token and user in memory: on to the handler at once.
      if (!(result instanceof Promise)) {
        if (result !== undefined) request.auth = result
        return done()
      }
      result.then(
        (context) => {
          if (context !== undefined) request.auth = context
          const nonce = context?.dpop?.nonce
          if (nonce !== undefined) reply.header('dpop-nonce', nonce)
          done()
        },
        (error: unknown) => {
          // An answer sent from a hook ends the request: `done` is not called after it.
          if (options.delegateErrors) done(error as Error)
          else send(reply, errorAnswer(error))
        },
      )
    }
  })
  if (metadataPath !== undefined) {
    const answer = metadataAnswer(requireProtectedResource(auth, 'metadataPath'))
    fastify.get(metadataPath, (_request, reply) => {
      send(reply, answer)
    })
  }
  if (discoverPath !== undefined) {
    // An encapsulated context that hands the body stream, unread, to the core: the core checks
    // the content type and reads the body within its size and time limits, as in every other
    // framework. Only a Content-Type that Fastify cannot parse is refused before that.
    await fastify.register(async (scope) => {
      scope.removeAllContentTypeParsers()
      scope.addContentTypeParser('*', (_request, payload, done) => {
        done(null, payload)
      })
      scope.setErrorHandler((error, _request, reply) =>
        send(
          reply,
          (error as { code?: unknown }).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? notJsonAnswer()
            : errorAnswer(error),
        ),
      )
      scope.post(discoverPath, async (request, reply) =>
        send(
          reply,
          await handleDiscoverRequest(
            auth,
            {
              stream: (request.body as AsyncIterable<Uint8Array> | undefined) ?? request.raw,
              contentType: request.headers['content-type'],
              client: request.ip,
            },
            discover,
          ),
        ),
      )
    })
  }
}

/**
 * The canonical-auth Fastify plugin: decorates `fastify.requireAuth(options?)` (a preHandler that
 * sets `request.auth` or answers 400/401/403/502/503 as JSON with `WWW-Authenticate`), with
 * `discoverPath` mounts discovery, and with `metadataPath` serves the protected resource metadata.
 *
 * @example
 * ```ts
 * await app.register(canonicalAuth, { auth, discoverPath: '/public/auth/discover' })
 * app.get('/me', { preHandler: app.requireAuth() }, async (request) => ({ userId: request.auth?.userId }))
 * ```
 */
export const canonicalAuth = Object.assign(plugin, {
  // What fastify-plugin would set, without the dependency: the decorators land in the parent
  // context (no encapsulation), under this name, for Fastify 5.
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'canonical-auth',
  [Symbol.for('plugin-meta')]: { fastify: '5.x', name: 'canonical-auth' },
})

export default canonicalAuth
