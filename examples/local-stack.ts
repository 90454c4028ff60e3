import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AuthConfig } from 'canonical-auth'
import { createTestIssuer, type TestIssuer } from 'canonical-auth/testing'
import { openDatabase } from './user-directory/database.js'
import { type DirectoryServer, startDirectoryServer } from './user-directory/server.js'
import { createUserStore, type UserStore } from './user-directory/store.js'

export interface LocalStack {
  readonly issuer: TestIssuer
  readonly directory: DirectoryServer
  readonly store: UserStore
  readonly databaseKind: string
  /** The AuthConfig every example service uses against this stack. */
  readonly config: AuthConfig
  close(): Promise<void>
}

const DIRECTORY_TOKEN = 'local-service-credential'

/**
 * A local Auth0 tenant (the testing kit on loopback) and the example user directory on PGlite
 * (or DATABASE_URL), wired together: what the examples run on when no real tenant is configured.
 */
export async function startLocalStack(): Promise<LocalStack> {
  const issuer = await createTestIssuer({ audience: 'https://api.example.local' })
  const database = await openDatabase()
  const store = createUserStore(database.db)
  await store.migrate()
  const directory = await startDirectoryServer({ store, token: DIRECTORY_TOKEN })
  const config: AuthConfig = {
    auth0: issuer.auth0,
    directory: { baseUrl: directory.url, headers: { authorization: `Bearer ${DIRECTORY_TOKEN}` } },
    trust: { trustedConnections: { 'acme-waad': ['acme.com'] } },
    discovery: {
      domains: { 'acme.com': { connection: 'acme-waad' } },
      clientId: 'example-spa',
      redirectUri: 'http://localhost:3000/callback',
    },
  }
  return {
    issuer,
    directory,
    store,
    databaseKind: database.kind,
    config,
    async close() {
      await directory.close()
      await database.close()
      await issuer.close()
    },
  }
}

/** The configuration from the environment, or undefined when no tenant is configured. */
export function configFromEnv(
  env: Record<string, string | undefined> = process.env,
): AuthConfig | undefined {
  if (!env.AUTH0_DOMAIN || !env.AUTH0_AUDIENCE || !env.DIRECTORY_URL) return undefined
  return {
    auth0: { domain: env.AUTH0_DOMAIN, audience: env.AUTH0_AUDIENCE },
    directory: {
      baseUrl: env.DIRECTORY_URL,
      // Plain http: to a host that is not loopback only where the network is trusted (a mesh).
      ...(env.DIRECTORY_ALLOW_INSECURE_HTTP === 'true' ? { allowInsecureHttp: true } : {}),
      ...(env.DIRECTORY_TOKEN
        ? { headers: { authorization: `Bearer ${env.DIRECTORY_TOKEN}` } }
        : {}),
    },
    trust: { trustedConnections: trustedConnectionsFrom(env.TRUSTED_CONNECTIONS) },
  }
}

/**
 * `TRUSTED_CONNECTIONS=acme-waad:acme.com,acme-waad:acme.co.uk,globex-okta:globex.com`: each
 * enterprise connection with an email domain it owns, one pair at a time.
 */
export function trustedConnectionsFrom(value: string | undefined): Record<string, string[]> {
  const connections: Record<string, string[]> = {}
  for (const pair of (value ?? '').split(',').filter(Boolean)) {
    const [connection, domain, ...rest] = pair.split(':').map((part) => part.trim())
    if (!connection || !domain || rest.length > 0) {
      throw new Error(`TRUSTED_CONNECTIONS: expected connection:domain pairs, got '${pair}'`)
    }
    connections[connection] = [...(connections[connection] ?? []), domain]
  }
  return connections
}

/**
 * Starts a service on the local stack when no tenant is configured, and says how to call it: a
 * GET of `path` with a token, or the command `tryWith` writes for the service's URL and a token.
 */
export async function withConfig(
  name: string,
  start: (config: AuthConfig) => Promise<{ url: string; close(): Promise<void> }>,
  path: string,
  tryWith: (url: string, token: string) => string = (url, token) =>
    `curl -s ${url}${path} -H 'Authorization: Bearer ${token}'`,
): Promise<void> {
  const fromEnv = configFromEnv()
  const stack = fromEnv === undefined ? await startLocalStack() : undefined
  const service = await start(fromEnv ?? (stack as LocalStack).config)
  console.log(`${name} listening at ${service.url}`)
  if (stack !== undefined) {
    const token = await stack.issuer.sign({
      sub: 'samlp|acme-waad|ada',
      email: 'ada@acme.com',
      email_verified: true,
    })
    console.log(
      `local tenant ${stack.issuer.issuer}, user directory on ${stack.databaseKind} at ${stack.directory.url}`,
    )
    console.log(`try:\n  ${tryWith(service.url, token)}`)
  }
  const stop = async () => {
    await service.close()
    await stack?.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

/** Waits for a Node HTTP server (Express's or Koa's `listen`) and says where it is. */
export async function served(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
