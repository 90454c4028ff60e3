import { createTestDirectory } from 'canonical-auth/testing'
import { describe, expect, it } from 'vitest'
import { server } from './msw.js'

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/api/v1/users/ensure`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })

describe('createTestDirectory', () => {
  it('speaks the wire contract: 201 created, then 200 existing, then lookup', async () => {
    const directory = await createTestDirectory()
    const first = await post(directory.baseUrl, {
      email: 'ada@acme.com',
      email_verified: true,
      auth0_sub: 'samlp|a|1',
      connection: 'a',
    })
    expect(first.status).toBe(201)
    const created = (await first.json()) as { id: string; email: string; created: boolean }
    expect(created).toMatchObject({ email: 'ada@acme.com', created: true })
    const second = await post(directory.baseUrl, {
      email: 'ada@acme.com',
      email_verified: true,
      auth0_sub: 'google-oauth2|9',
    })
    expect(second.status).toBe(200)
    expect(await second.json()).toEqual({ ...created, created: false })
    expect(directory.users.get('ada@acme.com')?.subs).toEqual(['samlp|a|1', 'google-oauth2|9'])
    const found = await fetch(
      `${directory.baseUrl}/admin/user/${encodeURIComponent('ada@acme.com')}`,
    )
    expect(await found.json()).toEqual({ id: created.id, email: 'ada@acme.com' })
    expect((await fetch(`${directory.baseUrl}/admin/user/nobody%40acme.com`)).status).toBe(404)
    expect(directory.calls).toEqual({ ensure: 2, lookup: 2 })
    await directory.close()
  })

  it('refuses a body without an email', async () => {
    const directory = await createTestDirectory()
    expect((await post(directory.baseUrl, { auth0_sub: 'x' })).status).toBe(400)
    await directory.close()
  })

  it('requires the configured headers', async () => {
    const directory = await createTestDirectory({ requireHeaders: { authorization: 'Bearer svc' } })
    expect((await post(directory.baseUrl, { email: 'a@b.co' })).status).toBe(401)
    expect(
      (await post(directory.baseUrl, { email: 'a@b.co' }, { authorization: 'Bearer svc' })).status,
    ).toBe(201)
    await directory.close()
  })

  it('answers garbage with the sub where the UUID belongs', async () => {
    const directory = await createTestDirectory({ listen: false })
    server.use(...directory.handlers)
    directory.fail('garbage')
    const reply = await post(directory.baseUrl, { email: 'a@b.co', auth0_sub: 'waad|abc' })
    expect(await reply.json()).toMatchObject({ id: 'waad|abc' })
    directory.fail('5xx')
    expect((await post(directory.baseUrl, { email: 'a@b.co' })).status).toBe(500)
    directory.fail('down')
    await expect(post(directory.baseUrl, { email: 'a@b.co' })).rejects.toThrow()
    directory.fail(null)
    expect((await post(directory.baseUrl, { email: 'a@b.co' })).status).toBe(201)
  })
})
