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

  it('refuses one user with a given status until told otherwise, whatever the case', async () => {
    const directory = await createTestDirectory()
    directory.addUser('fired@acme.com')
    directory.refuse('Fired@Acme.com', 403)
    expect((await post(directory.baseUrl, { email: 'fired@ACME.com' })).status).toBe(403)
    expect((await fetch(`${directory.baseUrl}/admin/user/fired%40acme.com`)).status).toBe(403)
    expect((await post(directory.baseUrl, { email: 'ada@acme.com' })).status).toBe(201)
    directory.refuse('fired@acme.com', null)
    expect((await post(directory.baseUrl, { email: 'fired@acme.com' })).status).toBe(200)
    await directory.close()
  })

  it.each([true, false])(
    'redirects elsewhere, and records who followed, with their headers (listen: %s)',
    async (listen) => {
      const directory = await createTestDirectory({ listen })
      if (!listen) server.use(...directory.handlers)
      directory.fail('redirect')
      const moved = await post(directory.baseUrl, { email: 'a@b.co' }, { 'x-key': 'k' })
      expect(moved.status).toBe(201)
      expect(moved.redirected).toBe(true)
      expect(await moved.json()).toMatchObject({ email: 'a@b.co', created: true })
      expect(directory.faultLog.redirected).toHaveLength(1)
      expect(directory.faultLog.redirected[0]?.headers.get('x-key')).toBe('k')
      const unfollowed = await fetch(`${directory.baseUrl}/admin/user/a%40b.co`, {
        redirect: 'manual',
      })
      expect(unfollowed.status).toBe(307)
      expect(directory.faultLog.redirected).toHaveLength(1)
      await directory.close()
    },
  )

  it.each([true, false])(
    'sends huge and trickled bodies lazily, and logs how far they were read (listen: %s)',
    async (listen) => {
      const directory = await createTestDirectory({ listen })
      if (!listen) server.use(...directory.handlers)
      directory.addUser('a@b.co')
      directory.fail('huge')
      const huge = await fetch(`${directory.baseUrl}/admin/user/a%40b.co`)
      expect(huge.status).toBe(200)
      expect(huge.headers.get('content-length')).toBeNull()
      const reader = (huge.body as ReadableStream<Uint8Array>).getReader()
      const first = await reader.read()
      expect(new TextDecoder().decode(first.value).trim()).toBe('')
      void reader.cancel().catch(() => {})
      directory.fail('trickle')
      const started = Date.now()
      const trickled = await fetch(`${directory.baseUrl}/admin/user/a%40b.co`)
      expect(Date.now() - started).toBeLessThan(2_000)
      const byte = await (trickled.body as ReadableStream<Uint8Array>).getReader().read()
      expect(new TextDecoder().decode(byte.value)).toBe('{')
      expect(directory.faultLog.bodiesStarted).toBe(2)
      expect(directory.faultLog.bodiesCompleted).toBe(0)
      await directory.close()
    },
  )
})
