import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { canonicalizeEmail } from 'canonical-auth'
import type { UserStore } from './store.js'

const MAX_BODY = 16_384

export interface DirectoryServer {
  readonly url: string
  close(): Promise<void>
}

/**
 * The user directory's HTTP API, as canonical-auth's default client expects it:
 * `POST /api/v1/users/ensure` and `GET /admin/user/{email}`. With `token`, every call must carry
 * `Authorization: Bearer <token>` (the calling service's credential).
 */
export async function startDirectoryServer(options: {
  store: UserStore
  token?: string
  port?: number
  host?: string
}): Promise<DirectoryServer> {
  const { store, token } = options
  const server = createServer((req, res) => {
    handle(req, res).catch(() => reply(res, 500, { error: 'internal_error' }))
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://directory')
    if (req.method === 'GET' && url.pathname === '/healthz') return reply(res, 200, { ok: true })
    if (token !== undefined && !authorised(req.headers.authorization, token))
      return reply(res, 401, { error: 'unauthorized' })
    if (req.method === 'POST' && url.pathname === '/api/v1/users/ensure') {
      const body = await readJson(req)
      const email = canonicalizeEmail(body?.email)?.address
      if (
        body === undefined ||
        email === undefined ||
        typeof body.auth0_sub !== 'string' ||
        body.auth0_sub === ''
      ) {
        return reply(res, 400, { error: 'invalid_request' })
      }
      const user = await store.ensure({
        email,
        emailVerified: body.email_verified === true,
        issuer: typeof body.auth0_issuer === 'string' ? body.auth0_issuer : '',
        sub: body.auth0_sub,
        connection: typeof body.connection === 'string' ? body.connection : null,
      })
      return reply(res, user.created ? 201 : 200, user)
    }
    if (req.method === 'GET' && url.pathname.startsWith('/admin/user/')) {
      const email = canonicalizeEmail(
        decodeURIComponent(url.pathname.slice('/admin/user/'.length)),
      )?.address
      if (email === undefined) return reply(res, 400, { error: 'invalid_request' })
      const user = await store.lookup(email)
      return user === null ? reply(res, 404, { error: 'not_found' }) : reply(res, 200, user)
    }
    return reply(res, 404, { error: 'not_found' })
  }

  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  )
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function authorised(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '')
  const expected = Buffer.from(`Bearer ${token}`)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) return undefined
    chunks.push(chunk as Buffer)
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
    .end(JSON.stringify(body))
}
