import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { listening } from '../helpers.js'

/** What a broken directory gets wrong. */
export type Defect =
  | 'not idempotent'
  | 'sub as id'
  | 'found for unknown'
  | 'case sensitive'
  | 'accepts anything'
  | 'no credential check'
  | 'duplicates under concurrency'

/**
 * A user directory on loopback that speaks the wire contract, except for the `defects` asked
 * for; it wants `Authorization: Bearer svc` unless told not to check.
 */
export async function startBrokenDirectory(
  defects: readonly Defect[],
): Promise<{ url: string; close(): Promise<void> }> {
  const has = (defect: Defect) => defects.includes(defect)
  const users = new Map<string, string>()
  const racing = new Map<string, () => void>()
  const raceFor = (email: string) =>
    new Promise<void>((resolve) => {
      const first = racing.get(email)
      if (first !== undefined) {
        racing.delete(email)
        first()
        resolve()
        return
      }
      const timer = setTimeout(() => {
        racing.delete(email)
        resolve()
      }, 2_000)
      racing.set(email, () => {
        clearTimeout(timer)
        resolve()
      })
    })
  const reply = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!has('no credential check') && req.headers.authorization !== 'Bearer svc') {
      return reply(res, 401, { error: 'unauthorized' })
    }
    const url = new URL(req.url ?? '/', 'http://directory')
    if (req.method === 'POST' && url.pathname === '/api/v1/users/ensure') {
      let text = ''
      for await (const chunk of req) text += chunk
      let body: { email?: unknown; auth0_sub?: unknown } | undefined
      try {
        body = JSON.parse(text)
      } catch {
        body = undefined
      }
      if (typeof body?.email !== 'string' || !body.email.includes('@')) {
        return has('accepts anything')
          ? reply(res, 200, { id: randomUUID(), created: false })
          : reply(res, 400, { error: 'invalid_request' })
      }
      const email = has('case sensitive') ? body.email : body.email.toLowerCase()
      const known = users.get(email)
      if (known !== undefined && !has('not idempotent')) {
        return reply(res, 200, { id: known, email, created: false })
      }
      // A read, then a write: an ensure for a new email waits for a second one (or 2 s), and
      // both then pass the read before either writes, as a racing check-then-insert does.
      if (has('duplicates under concurrency')) await raceFor(email)
      const id = has('sub as id') ? String(body.auth0_sub) : randomUUID()
      users.set(email, id)
      return reply(res, 201, { id, email, created: true })
    }
    if (req.method === 'GET' && url.pathname.startsWith('/admin/user/')) {
      const raw = decodeURIComponent(url.pathname.slice('/admin/user/'.length))
      const id = users.get(has('case sensitive') ? raw : raw.toLowerCase())
      if (id !== undefined) return reply(res, 200, { id, email: raw })
      return has('found for unknown')
        ? reply(res, 200, { id: randomUUID(), email: raw })
        : reply(res, 404, { error: 'not_found' })
    }
    return reply(res, 404, { error: 'not_found' })
  }
  const server = createServer((req, res) => {
    handle(req, res).catch(() => reply(res, 500, { error: 'internal_error' }))
  })
  const { origin, close } = await listening(server.listen(0, '127.0.0.1'))
  return { url: origin, close }
}
