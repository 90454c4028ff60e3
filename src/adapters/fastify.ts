import type { FastifyPluginAsync, FastifyReply, preHandlerAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import type { Auth } from '../core/auth.js'
import { handleDiscoverRequest } from '../core/discover-handler.js'
import { AuthError } from '../core/errors.js'
import { createGuard, type RequireAuthOptions } from '../core/guard.js'
import { errorAnswer, type HttpAnswer } from '../core/respond.js'
import type { AuthContext } from '../core/types.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** A preHandler that authenticates the request and sets `request.auth`. */
    requireAuth(options?: RequireAuthOptions): preHandlerAsyncHookHandler
  }
  interface FastifyRequest {
    /** Set by `requireAuth`: the canonical user. Absent on an optional route without a token. */
    auth?: AuthContext
  }
}

export type { RequireAuthOptions, Requirement } from '../core/guard.js'

/** Options of the canonical-auth Fastify plugin. */
export interface CanonicalAuthPluginOptions {
  /** The instance from `createAuth`. */
  auth: Auth
  /** Where to mount `POST` discovery, e.g. `/public/auth/discover`. Not mounted when absent. */
  discoverPath?: string
}

function send(reply: FastifyReply, answer: HttpAnswer): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).send(JSON.stringify(answer.body))
}

const plugin: FastifyPluginAsync<CanonicalAuthPluginOptions> = async (
  fastify,
  { auth, discoverPath },
) => {
  if (auth === undefined) throw new TypeError('canonical-auth: the fastify plugin needs { auth }')
  if (fastify.hasDecorator('requireAuth')) {
    throw new Error(
      'canonical-auth: the plugin is already registered in this context; one Auth serves several ' +
        'tenants (auth0: [...]), or register it in sibling encapsulated contexts',
    )
  }
  if (!fastify.hasRequestDecorator('auth')) fastify.decorateRequest('auth', undefined)
  fastify.decorate(
    'requireAuth',
    (options: RequireAuthOptions = {}): preHandlerAsyncHookHandler => {
      const guard = createGuard(auth, options)
      return async (request, reply) => {
        let context: AuthContext | undefined
        try {
          context = await guard({ headers: request.headers })
        } catch (error) {
          if (options.delegateErrors) throw error
          return send(reply, errorAnswer(error))
        }
        if (context !== undefined) request.auth = context
      }
    },
  )
  if (discoverPath !== undefined) {
    // An encapsulated context that hands the raw body to the core, so a malformed body gets the
    // same 400 as in every other framework instead of Fastify's own parser error.
    await fastify.register(async (scope) => {
      scope.removeAllContentTypeParsers()
      scope.addContentTypeParser(
        '*',
        { parseAs: 'string', bodyLimit: 65_536 },
        (_request, body, done) => {
          done(null, body)
        },
      )
      scope.setErrorHandler((error, _request, reply) => {
        const tooLarge = (error as { code?: unknown }).code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        return send(
          reply,
          errorAnswer(
            tooLarge ? new AuthError('invalid_request', 'The request body is too large') : error,
          ),
        )
      })
      scope.post(discoverPath, async (request, reply) =>
        send(
          reply,
          await handleDiscoverRequest(auth, { body: request.body ?? '', client: request.ip }),
        ),
      )
    })
  }
}

/**
 * The canonical-auth Fastify plugin: decorates `fastify.requireAuth(options?)` (a preHandler that
 * sets `request.auth` or answers 400/401/403/502/503 as JSON with `WWW-Authenticate`) and, with
 * `discoverPath`, mounts discovery.
 *
 * @example
 * ```ts
 * await app.register(canonicalAuth, { auth, discoverPath: '/public/auth/discover' })
 * app.get('/me', { preHandler: app.requireAuth() }, async (request) => ({ userId: request.auth?.userId }))
 * ```
 */
export const canonicalAuth = fp(plugin, { fastify: '5.x', name: 'canonical-auth' })

export default canonicalAuth
