import { randomUUID } from 'node:crypto'
import {
  type CryptoKey,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  jwtVerify,
  SignJWT,
} from 'jose'
import { dpopThumbprint } from './dpop.js'
import { listenLoopback } from './loopback.js'
import { mswHandlers } from './msw-handlers.js'
import {
  type FaultLog,
  type FaultMode,
  faultRecorder,
  json,
  type MswHandler,
  type Reply,
  type Route,
  withFault,
} from './transport.js'

/** Options for {@link createTestIssuer}. */
export interface TestIssuerOptions {
  /** The audience tokens are minted for and `auth0.audience` expects. Default `https://api.test.invalid`. */
  audience?: string
  /**
   * `true` (default): serve the JWKS and OIDC metadata from a loopback HTTP server.
   * `false`: use an `https://…invalid/` issuer that only the msw `handlers` answer.
   */
  listen?: boolean
}

/** Options for {@link TestIssuer.sign}. */
export interface SignOptions {
  /** Seconds until `exp`, counted from `iat`. Default 3 600. */
  expiresIn?: number
  /** Extra or overriding protected-header parameters, e.g. `{ typ: 'at+jwt' }` or `{ kid: 'other' }`. */
  header?: Record<string, unknown>
  /**
   * Binds the token to this DPoP public key (a JWK or CryptoKey): `cnf.jkt` is its RFC 7638
   * thumbprint, as an authorization server that issues DPoP-bound tokens sets it.
   */
  dpop?: JWK | CryptoKey
}

/** A local Auth0 stand-in: a real RS256 key pair whose public key set is served over HTTP. */
export interface TestIssuer {
  /** The `iss` of minted tokens, with a trailing slash like Auth0's. */
  readonly issuer: string
  /** Where the key set is served. */
  readonly jwksUri: string
  /** The audience minted tokens carry. */
  readonly audience: string
  /** Spread into `createAuth({ auth0: issuer.auth0 })`. */
  readonly auth0: { readonly issuer: string; readonly jwksUri: string; readonly audience: string }
  /** The public key set currently served. */
  readonly jwks: JSONWebKeySet
  /** The `kid` that {@link TestIssuer.sign} uses now. */
  readonly kid: string
  /** How many requests each endpoint received. */
  readonly calls: {
    readonly jwks: number
    readonly openidConfiguration: number
    readonly userinfo: number
  }
  /**
   * What `/userinfo` answers, by sub, for a valid token of this issuer (e.g.
   * `{ email: 'ada@acme.com', email_verified: true }`). A sub without a profile gets `{ sub }` only.
   */
  readonly profiles: Map<string, Record<string, unknown>>
  /** msw handlers answering this issuer's endpoints (needs msw installed). */
  readonly handlers: MswHandler[]
  /**
   * Mints an Auth0-shaped RS256 access token. Defaults: `iss`, `aud`, `sub: 'auth0|test-user'`,
   * `azp`, `scope`, `iat` now and `exp` an hour later. A claim given as `undefined` is left out.
   * With `dpop`, the token is bound to that key (`cnf.jkt`).
   */
  sign(claims?: Record<string, unknown>, options?: SignOptions): Promise<string>
  /**
   * Signs exact payload bytes with the current key, for tests of malformed tokens (an `exp` of
   * `1e400`, a non-object payload). The header defaults to `{ alg: 'RS256', typ: 'JWT', kid }`.
   */
  signRaw(payload: string | Uint8Array, options?: Pick<SignOptions, 'header'>): Promise<string>
  /**
   * Generates a new signing key and serves it. With `keepPrevious` (default true) the old key stays
   * in the key set, as Auth0 does while a rotation is in progress. Resolves to the new `kid`.
   */
  rotateKey(options?: { keepPrevious?: boolean }): Promise<string>
  /** Makes the endpoints (key set, metadata, userinfo) misbehave until `fail(null)`. */
  fail(mode: FaultMode | null): void
  /** How clients treated the `trickle`, `huge` and `redirect` fault modes. */
  readonly faultLog: FaultLog
  /** Stops the loopback server. */
  close(): Promise<void>
}

interface SigningKey {
  readonly kid: string
  readonly privateKey: CryptoKey
  readonly publicJwk: JWK
}

async function newSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  const kid = randomUUID()
  return {
    kid,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
  }
}

/**
 * Starts a test issuer for tests of services that use canonical-auth. Nothing it signs is accepted
 * anywhere unless its issuer is configured, exactly like a real tenant.
 *
 * @example
 * ```ts
 * const issuer = await createTestIssuer()
 * const auth = createAuth({ auth0: issuer.auth0 })
 * const token = await issuer.sign({ sub: 'samlp|acme-waad|x1', email: 'ada@acme.com', email_verified: true })
 * await auth.verifyAuth0Token(token)
 * await issuer.close()
 * ```
 */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const audience = options.audience ?? 'https://api.test.invalid'
  let keys = [await newSigningKey()]
  let fault: FaultMode | null = null
  const faultLog = faultRecorder()
  const calls = { jwks: 0, openidConfiguration: 0, userinfo: 0 }
  const profiles = new Map<string, Record<string, unknown>>()
  let issuer = ''

  const userinfo = async (authorization: string | null): Promise<Reply> => {
    const token = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1]
    if (token === undefined) return json(401, { error: 'invalid_token' })
    try {
      const keySet = createLocalJWKSet({ keys: keys.map((key) => key.publicJwk) })
      const { payload } = await jwtVerify(token, keySet, { issuer, algorithms: ['RS256'] })
      const sub = payload.sub as string
      return json(200, { ...profiles.get(sub), sub })
    } catch {
      return json(401, { error: 'invalid_token' })
    }
  }

  const route: Route = async ({ method, path, headers }) => {
    if (method !== 'GET') return undefined
    if (path === '/userinfo') {
      calls.userinfo += 1
      const healthy = await userinfo(headers.get('authorization'))
      return withFault(fault, () => healthy)
    }
    if (path === '/.well-known/jwks.json') {
      calls.jwks += 1
      return withFault(fault, () => json(200, { keys: keys.map((key) => key.publicJwk) }))
    }
    if (path === '/.well-known/openid-configuration') {
      calls.openidConfiguration += 1
      return withFault(fault, () =>
        json(200, {
          issuer,
          jwks_uri: `${issuer}.well-known/jwks.json`,
          id_token_signing_alg_values_supported: ['RS256'],
        }),
      )
    }
    return undefined
  }

  let close = async () => {}
  if (options.listen === false) {
    issuer = `https://tenant-${randomUUID().slice(0, 8)}.canonical-auth.invalid/`
  } else {
    const server = await listenLoopback(route, faultLog)
    issuer = `${server.origin}/`
    close = server.close
  }
  const handlers = await mswHandlers(issuer.slice(0, -1), route, faultLog)
  const jwksUri = `${issuer}.well-known/jwks.json`

  return {
    issuer,
    jwksUri,
    audience,
    auth0: { issuer, jwksUri, audience },
    get jwks() {
      return { keys: keys.map((key) => key.publicJwk) }
    },
    get kid() {
      return (keys[0] as SigningKey).kid
    },
    calls,
    profiles,
    get handlers() {
      if (handlers instanceof Error) throw handlers
      return handlers
    },
    async sign(claims = {}, signOptions = {}) {
      const key = keys[0] as SigningKey
      const now = Math.floor(Date.now() / 1000)
      const payload: Record<string, unknown> = {
        iss: issuer,
        sub: 'auth0|test-user',
        aud: audience,
        azp: 'canonical-auth-test-client',
        scope: 'openid profile email',
        iat: now,
        exp: now + (signOptions.expiresIn ?? 3600),
        ...(signOptions.dpop === undefined
          ? {}
          : { cnf: { jkt: await dpopThumbprint(signOptions.dpop) } }),
        ...claims,
      }
      for (const name of Object.keys(payload)) if (payload[name] === undefined) delete payload[name]
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid, ...signOptions.header })
        .sign(key.privateKey)
    },
    async signRaw(payload, signOptions = {}) {
      // Signed by hand rather than with jose, which refuses to produce some of the malformed
      // tokens (unknown crit, b64: false) that tests need to feed a verifier.
      const key = keys[0] as SigningKey
      const header = { alg: 'RS256', typ: 'JWT', kid: key.kid, ...signOptions.header }
      const bytes =
        typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload)
      const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${bytes.toString('base64url')}`
      const signature = await crypto.subtle.sign(
        'RSASSA-PKCS1-v1_5',
        key.privateKey,
        Buffer.from(input),
      )
      return `${input}.${Buffer.from(signature).toString('base64url')}`
    },
    async rotateKey({ keepPrevious = true } = {}) {
      const next = await newSigningKey()
      keys = keepPrevious ? [next, ...keys] : [next]
      return next.kid
    },
    fail(mode) {
      fault = mode
    },
    faultLog,
    close: () => close(),
  }
}
