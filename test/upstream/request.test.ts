import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { UpstreamError } from 'canonical-auth'
import { describe, expect, it } from 'vitest'
import { RETRIED_STATUSES, upstreamRequest } from '../../src/core/upstream/request.js'
import { readJson, upstreamFailure } from '../helpers.js'
import { useInstances } from '../stack.js'

// The one retry policy of every upstream call, against a real loopback server that answers each
// request with the next reply of its script and records what it was sent.

type Reply = { status: number; headers?: Record<string, string>; body?: string }

interface Script {
  readonly origin: string
  readonly requests: { method: string; url: string; headers: IncomingMessage['headers'] }[]
  close(): Promise<void>
}

const keep = useInstances()

async function serve(...replies: Reply[]): Promise<Script> {
  const requests: Script['requests'] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    req.resume()
    const reply = replies.shift() ?? { status: 500 }
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers })
    res.end(reply.body ?? '{}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const script: Script = {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  return keep(script)
}

const limits = { upstream: 'test', timeoutMs: 5_000, maxBytes: 1_024 }
describe('upstreamRequest', () => {
  it.each([408, 429, 500, 502, 503, 504])('tries once more after a %i', async (status) => {
    const server = await serve({ status }, { status: 200, body: '{"ok":true}' })
    const answer = await upstreamRequest(limits, { url: `${server.origin}/x` }, readJson)
    expect(answer).toEqual({ ok: true })
    expect(server.requests).toHaveLength(2)
  })

  it.each([400, 401, 403, 404, 409, 422])('answers a %i at once, with no retry', async (status) => {
    const server = await serve({ status }, { status: 200 })
    const seen = await upstreamRequest(limits, { url: `${server.origin}/x` }, (r) => r.status)
    expect(seen).toBe(status)
    expect(server.requests).toHaveLength(1)
  })

  it('retries a post as often as asked, with its JSON body each time', async () => {
    const server = await serve({ status: 503 }, { status: 502 }, { status: 201, body: '{"id":1}' })
    const answer = await upstreamRequest(
      limits,
      { method: 'post', url: `${server.origin}/ensure`, json: { email: 'a@b.co' }, retries: 2 },
      readJson,
    )
    expect(answer).toEqual({ id: 1 })
    expect(server.requests.map((r) => r.method)).toEqual(['POST', 'POST', 'POST'])
    expect(server.requests.every((r) => r.headers['content-type'] === 'application/json')).toBe(
      true,
    )
  })

  it('retries exactly the statuses that say an upstream is struggling', () => {
    expect([...RETRIED_STATUSES].sort()).toEqual([408, 429, 500, 502, 503, 504])
  })

  it('stops after the retries it was given, failing with the last status', async () => {
    const server = await serve({ status: 500 }, { status: 500 }, { status: 200 })
    const error = await upstreamFailure(
      upstreamRequest(limits, { url: `${server.origin}/x`, retries: 1 }, (response) => {
        if (!response.ok) throw new UpstreamError('test', 'status', 'failed', response.status)
        return response.json()
      }),
    )
    expect(error).toMatchObject({ kind: 'status', status: 500 })
    expect(server.requests).toHaveLength(2)
  })

  it('makes one attempt with retries: 0', async () => {
    const server = await serve({ status: 503 }, { status: 200 })
    expect(await upstreamRequest(limits, { url: server.origin, retries: 0 }, (r) => r.status)).toBe(
      503,
    )
    expect(server.requests).toHaveLength(1)
  })

  it('asks a headers function once per call, and sends what it returns on every attempt', async () => {
    const server = await serve({ status: 503 }, { status: 200 })
    let calls = 0
    await upstreamRequest(
      limits,
      {
        url: server.origin,
        headers: async () => ({ authorization: `Bearer credential-${++calls}` }),
      },
      readJson,
    )
    expect(calls).toBe(1)
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer credential-1',
      'Bearer credential-1',
    ])
    expect(server.requests[0]?.headers.accept).toBe('application/json')
  })

  it('never follows a redirect', async () => {
    const server = await serve({ status: 302, headers: { location: '/elsewhere' } })
    const error = await upstreamFailure(upstreamRequest(limits, { url: server.origin }, readJson))
    expect(error).toMatchObject({ kind: 'redirect', status: 302 })
    expect(server.requests.map((r) => r.url)).toEqual(['/'])
  })
})
