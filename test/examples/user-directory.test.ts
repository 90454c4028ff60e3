import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../examples/user-directory/database.js'
import { type DirectoryServer, startDirectoryServer } from '../../examples/user-directory/server.js'
import { createUserStore, type UserStore } from '../../examples/user-directory/store.js'
import { UUID } from '../helpers.js'

// PGlite by default; the real PostgreSQL server when DATABASE_URL is set (scripts/with-postgres.sh).
const run = randomUUID().slice(0, 8)
const at = (name: string) => `${name}-${run}@acme.com`
let database: Awaited<ReturnType<typeof openDatabase>>
let store: UserStore
let server: DirectoryServer

beforeAll(async () => {
  database = await openDatabase(process.env)
  store = createUserStore(database.db)
  await store.migrate()
  await store.migrate() // idempotent
  server = await startDirectoryServer({ store, token: 'svc' })
})
afterAll(async () => {
  await server.close()
  await database.close()
})

const ensure = (body: unknown, token = 'svc') =>
  fetch(`${server.url}/api/v1/users/ensure`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  })

const identity = (email: string, sub: string) => ({
  email,
  email_verified: true,
  auth0_sub: sub,
  connection: 'acme-waad',
  auth0_issuer: 'https://tenant.example/',
})

describe(`the example user directory (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'PGlite'})`, () => {
  it('creates once (201), then returns the same user (200), with a UUID from the database', async () => {
    const first = await ensure(identity(at('first'), `samlp|acme-waad|first-${run}`))
    expect(first.status).toBe(201)
    const created = (await first.json()) as { id: string; created: boolean }
    expect(created).toMatchObject({ email: at('first'), created: true })
    expect(created.id).toMatch(UUID)
    const again = await ensure(identity(at('first').toUpperCase(), `samlp|acme-waad|first-${run}`))
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual({ ...created, created: false })
  })

  it('is atomic under concurrency: 100 simultaneous first calls make one user', async () => {
    const answers = await Promise.all(
      Array.from({ length: 100 }, () =>
        ensure(identity(at('herd'), `samlp|acme-waad|herd-${run}`)),
      ),
    )
    const bodies = (await Promise.all(answers.map((answer) => answer.json()))) as {
      id: string
      created: boolean
    }[]
    expect(new Set(bodies.map((body) => body.id)).size).toBe(1)
    expect(bodies.filter((body) => body.created)).toHaveLength(1)
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1)
  })

  it('records each (issuer, sub) link at first sight and never moves it', async () => {
    const user = (await (
      await ensure(identity('links@acme.com', 'samlp|acme-waad|links'))
    ).json()) as { id: string }
    await ensure(identity('links@acme.com', 'google-oauth2|links'))
    await ensure(identity('links@acme.com', 'samlp|acme-waad|links'))
    expect(await store.identities(user.id)).toEqual([
      { issuer: 'https://tenant.example/', sub: 'samlp|acme-waad|links', connection: 'acme-waad' },
      { issuer: 'https://tenant.example/', sub: 'google-oauth2|links', connection: 'acme-waad' },
    ])
  })

  it('looks users up read-only: 200 or 404', async () => {
    const user = (await (
      await ensure(identity('look@acme.com', 'samlp|acme-waad|look'))
    ).json()) as { id: string }
    const auth = { authorization: 'Bearer svc' }
    expect(
      await (
        await fetch(`${server.url}/admin/user/${encodeURIComponent('look@acme.com')}`, {
          headers: auth,
        })
      ).json(),
    ).toEqual({ id: user.id, email: 'look@acme.com' })
    const before = await store.count()
    expect(
      (await fetch(`${server.url}/admin/user/nobody%40acme.com`, { headers: auth })).status,
    ).toBe(404)
    expect(await store.count()).toBe(before)
  })

  it('refuses a missing or wrong service credential', async () => {
    expect((await ensure(identity('x@acme.com', 'a|b|c'), 'wrong')).status).toBe(401)
    expect((await fetch(`${server.url}/admin/user/x%40acme.com`)).status).toBe(401)
  })

  it.each([
    ['no email', { auth0_sub: 'a|b|c' }],
    ['a bad email', { email: 'a@acme.com@evil.com', auth0_sub: 'a|b|c' }],
    ['no sub', { email: 'a@acme.com' }],
  ])('refuses %s (400)', async (_name, body) => {
    expect((await ensure(body)).status).toBe(400)
  })
})
