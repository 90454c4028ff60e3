import {
  type ArgumentsHost,
  applyDecorators,
  type CanActivate,
  Catch,
  createParamDecorator,
  type DynamicModule,
  type ExceptionFilter,
  type ExecutionContext,
  Inject,
  Injectable,
  Module,
  SetMetadata,
  UseGuards,
} from '@nestjs/common'
import { APP_FILTER, Reflector } from '@nestjs/core'
import {
  type Auth,
  type AuthContext,
  createGuard,
  errorAnswer,
  type GuardRequest,
  type HttpAnswer,
  type RequireAuthOptions,
  requestUrl,
  setRequestAuth,
} from '../core/http/index.js'

export type {
  ClaimRules,
  ClaimValue,
  RequireAuthOptions,
  ScopeRequirement,
} from '../core/http/index.js'

/**
 * `@RequireAuth`'s options: those of `requireAuth` in every adapter, and `auth`, an instance
 * other than the module's for this route (a second tenant kept apart, say).
 */
export interface NestRequireAuthOptions extends RequireAuthOptions {
  auth?: Auth | undefined
}

/** The injection token of the `Auth` instance `CanonicalAuthModule` provides. */
export const CANONICAL_AUTH: unique symbol = Symbol.for('canonical-auth.nest.auth')

const OPTIONS_KEY = 'canonical-auth:require-auth'

/** The request as the Express and Fastify platforms hand it over, as far as the guard reads it. */
interface PlatformRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly method: string
  readonly protocol: string
  /** Express 5 and Fastify: the host (and port), from X-Forwarded-Host only behind a trusted proxy. */
  readonly host?: string
  /** Express: the path before any router took its prefix. */
  readonly originalUrl?: string
  readonly url: string
  auth?: AuthContext
}

/** The response of the Express platform, as far as the guard and the filter write it. */
interface ExpressResponse {
  status(code: number): ExpressResponse
  set(headers: Record<string, string>): ExpressResponse
  setHeader(name: string, value: string): void
  send(body: string): unknown
}

/** The reply of the Fastify platform, as far as the guard and the filter write it. */
interface FastifyReply {
  code(code: number): FastifyReply
  headers(headers: Record<string, string>): FastifyReply
  header(name: string, value: string): FastifyReply
  send(body: string): unknown
}

type PlatformResponse = ExpressResponse | FastifyReply

function isFastify(response: PlatformResponse): response is FastifyReply {
  return typeof (response as Partial<FastifyReply>).code === 'function'
}

/** A refusal the guard answers itself, through {@link AuthAnswerFilter}: not for other filters. */
class AuthAnswer extends Error {
  readonly answer: HttpAnswer
  constructor(answer: HttpAnswer) {
    super('canonical-auth answered the request')
    this.answer = answer
  }
}

function send(response: PlatformResponse, answer: HttpAnswer): void {
  const body = JSON.stringify(answer.body)
  const headers = answer.headers as Record<string, string>
  if (isFastify(response)) response.code(answer.status).headers(headers).send(body)
  else response.status(answer.status).set(headers).send(body)
}

function setHeader(response: PlatformResponse, name: string, value: string): void {
  if (isFastify(response)) response.header(name, value)
  else response.setHeader(name, value)
}

/** Writes the answers the guard decided, exactly as the other adapters write them. */
export class AuthAnswerFilter implements ExceptionFilter {
  catch(exception: AuthAnswer, host: ArgumentsHost): void {
    send(host.switchToHttp().getResponse<PlatformResponse>(), exception.answer)
  }
}
Catch(AuthAnswer)(AuthAnswerFilter)

/**
 * Authenticates each request of the routes it guards (`@RequireAuth(options)` applies it with its
 * options) and puts the canonical user on `request.auth`; a refusal is answered as every adapter
 * answers it (status, JSON body, `WWW-Authenticate`), past Nest's exception filters, unless the
 * route's options say `delegateErrors`: then the `AuthError` is thrown to them.
 */
export class CanonicalAuthGuard implements CanActivate {
  readonly #auth: Auth
  readonly #reflector: Reflector
  readonly #guards = new WeakMap<NestRequireAuthOptions, ReturnType<typeof createGuard>>()
  readonly #defaultGuard: ReturnType<typeof createGuard>

  constructor(auth: Auth, reflector: Reflector) {
    this.#auth = auth
    this.#reflector = reflector
    this.#defaultGuard = createGuard(auth, {})
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const options = this.#reflector.getAllAndOverride<NestRequireAuthOptions | undefined>(
      OPTIONS_KEY,
      [context.getHandler(), context.getClass()],
    )
    const guard = this.#guardFor(options)
    const http = context.switchToHttp()
    const request = http.getRequest<PlatformRequest>()
    const response = http.getResponse<PlatformResponse>()
    const result = guard(requestOf(request))
    if (!(result instanceof Promise)) {
      if (result !== undefined) setRequestAuth(request, result)
      return true
    }
    return result.then(
      (auth) => {
        if (auth !== undefined) setRequestAuth(request, auth)
        const nonce = auth?.dpop?.nonce
        if (nonce !== undefined) setHeader(response, 'dpop-nonce', nonce)
        return true
      },
      (error: unknown) => {
        if (options?.delegateErrors) throw error
        throw new AuthAnswer(errorAnswer(error))
      },
    )
  }

  #guardFor(options: NestRequireAuthOptions | undefined): ReturnType<typeof createGuard> {
    if (options === undefined) return this.#defaultGuard
    let guard = this.#guards.get(options)
    if (guard === undefined) {
      guard = createGuard(options.auth ?? this.#auth, options)
      this.#guards.set(options, guard)
    }
    return guard
  }
}
Injectable()(CanonicalAuthGuard)
Inject(CANONICAL_AUTH)(CanonicalAuthGuard, undefined, 0)
Inject(Reflector)(CanonicalAuthGuard, undefined, 1)

/** What the guard hands the core: the method and URL only for a request with a DPoP proof. */
function requestOf(request: PlatformRequest): GuardRequest {
  if (request.headers.dpop === undefined) return { headers: request.headers }
  return {
    headers: request.headers,
    method: request.method,
    url: () => requestUrl(request.protocol, request.host, request.originalUrl ?? request.url),
  }
}

/**
 * Guards a controller or a route: authenticates every request, then checks the options' claim
 * rules, scopes and permissions. The user is on `request.auth`, or take it with `@CurrentUser()`.
 *
 * @example
 * ```ts
 * @Controller('reports')
 * export class ReportsController {
 *   @Get()
 *   @RequireAuth({ scopes: ['read:reports'] })
 *   list(@CurrentUser() user: AuthContext) {
 *     return { userId: user.userId }
 *   }
 * }
 * ```
 */
export function RequireAuth(
  options: NestRequireAuthOptions = {},
): MethodDecorator & ClassDecorator {
  // Validated now, as every adapter validates its options when the route is built.
  createGuard(options.auth as Auth, options)
  return applyDecorators(SetMetadata(OPTIONS_KEY, options), UseGuards(CanonicalAuthGuard))
}

/**
 * The request's `AuthContext` as a handler parameter (`undefined` on an optional route without a
 * token).
 */
export const CurrentUser: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, context: ExecutionContext) =>
    context.switchToHttp().getRequest<PlatformRequest>().auth,
)

/** `CanonicalAuthModule.forRootAsync` options: the `Auth` made by a factory with injected deps. */
export interface CanonicalAuthAsyncOptions {
  imports?: DynamicModule['imports']
  inject?: unknown[]
  useFactory: (...deps: never[]) => { auth: Auth } | Promise<{ auth: Auth }>
}

/**
 * The `Auth` instance for the whole application (a global module), the guard, and the filter that
 * writes its answers. Import it once, in the root module.
 *
 * @example
 * ```ts
 * @Module({ imports: [CanonicalAuthModule.forRoot({ auth })], controllers: [ReportsController] })
 * export class AppModule {}
 * ```
 */
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest module is a class, configured by its static forRoot.
export class CanonicalAuthModule {
  static forRoot(options: { auth: Auth }): DynamicModule {
    return moduleWith({ provide: CANONICAL_AUTH, useValue: options.auth })
  }

  static forRootAsync(options: CanonicalAuthAsyncOptions): DynamicModule {
    return {
      ...moduleWith({
        provide: CANONICAL_AUTH,
        useFactory: async (...deps: never[]) => (await options.useFactory(...deps)).auth,
        inject: (options.inject ?? []) as never[],
      }),
      imports: options.imports ?? [],
    }
  }
}
Module({})(CanonicalAuthModule)

function moduleWith(provider: NonNullable<DynamicModule['providers']>[number]): DynamicModule {
  return {
    module: CanonicalAuthModule,
    global: true,
    providers: [provider, CanonicalAuthGuard, { provide: APP_FILTER, useClass: AuthAnswerFilter }],
    exports: [CANONICAL_AUTH, CanonicalAuthGuard],
  }
}
