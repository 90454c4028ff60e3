import { AuthError } from 'canonical-auth'
import { describe, expect, it } from 'vitest'
import { callUpstream, statusError, type UpstreamInit } from '../../src/core/upstream/client.js'
import { readJson, upstreamFailure } from '../helpers.js'

// The one helper every upstream call goes through, on answers made in memory: one deadline that
// covers the body, a byte cap that holds whatever the headers say, no redirect followed.

const limits = { upstream: 'test', timeoutMs: 300, maxBytes: 16 }

/** A body that records what the reader asked of it. `chunks` are sent on demand; then it waits. */
function body(chunks: string[], options: { end?: boolean } = {}) {
  const seen = { pulls: 0, cancelled: false }
  const encoder = new TextEncoder()
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller): Promise<void> | undefined {
        seen.pulls += 1
        const chunk = chunks.shift()
        if (chunk !== undefined) controller.enqueue(encoder.encode(chunk))
        else if (options.end !== false) controller.close()
        else return new Promise(() => {}) // never another byte
        return undefined
      },
      cancel() {
        seen.cancelled = true
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, seen }
}

/** An abort controller whose signal counts the listeners attached to it. */
function listenedSignal() {
  const controller = new AbortController()
  const { signal } = controller
  let listening = 0
  const add = signal.addEventListener.bind(signal)
  const remove = signal.removeEventListener.bind(signal)
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    listening += 1
    add(...args)
  }) as typeof signal.addEventListener
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    listening -= 1
    remove(...args)
  }) as typeof signal.removeEventListener
  return { signal, abort: () => controller.abort(), listeners: () => listening }
}

describe('callUpstream', () => {
  it('reads and parses a body within its cap', async () => {
    const { stream } = body(['{"a":', '1}'])
    await expect(callUpstream(limits, async () => new Response(stream), readJson)).resolves.toEqual(
      {
        a: 1,
      },
    )
  })

  it('accepts a body of exactly the cap, and refuses one byte more, cancelling the rest', async () => {
    await expect(
      callUpstream(limits, async () => new Response('"12345678901234"'), readJson),
    ).resolves.toBe('12345678901234')
    const { stream, seen } = body(['"1234567890', '12345"', ' '.repeat(1_000)])
    const error = await upstreamFailure(
      callUpstream(limits, async () => new Response(stream), readJson),
    )
    expect(error.kind).toBe('too_large')
    expect(seen.pulls).toBe(2)
    expect(seen.cancelled).toBe(true)
  })

  it('refuses a declared length past the cap without reading the body', async () => {
    const { stream, seen } = body(['{}'])
    const response = new Response(stream, { headers: { 'content-length': '17' } })
    const error = await upstreamFailure(callUpstream(limits, async () => response, readJson))
    expect(error.kind).toBe('too_large')
    expect(seen.pulls).toBe(0)
    expect(seen.cancelled).toBe(true)
  })

  it('counts the bytes whatever the declared length says', async () => {
    const { stream } = body(['"', 'x'.repeat(40), '"'])
    const response = new Response(stream, { headers: { 'content-length': '2' } })
    expect((await upstreamFailure(callUpstream(limits, async () => response, readJson))).kind).toBe(
      'too_large',
    )
  })

  it('ends a body still arriving at the deadline, and cancels it', async () => {
    const { stream, seen } = body(['{"a":'], { end: false })
    const started = Date.now()
    const error = await upstreamFailure(
      callUpstream(limits, async () => new Response(stream), readJson),
    )
    expect(error.kind).toBe('timeout')
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(seen.cancelled).toBe(true)
  })

  it('ends the wait for headers at the deadline, even if the request ignores its signal', async () => {
    const error = await upstreamFailure(
      callUpstream(limits, () => new Promise<Response>(() => {}), readJson),
    )
    expect(error.kind).toBe('timeout')
  })

  it("ends the call when the caller's signal aborts, and lets go of the signal", async () => {
    const { stream, seen } = body([], { end: false })
    const caller = listenedSignal()
    const call = callUpstream(
      { ...limits, timeoutMs: 10_000, signal: caller.signal },
      async () => new Response(stream),
      readJson,
    )
    setTimeout(() => caller.abort(), 20)
    expect((await upstreamFailure(call)).kind).toBe('aborted')
    expect(seen.cancelled).toBe(true)
    expect(caller.listeners()).toBe(0)

    // A call that succeeds lets go of it too.
    const other = listenedSignal()
    await callUpstream({ ...limits, signal: other.signal }, async () => new Response('1'), readJson)
    expect(other.listeners()).toBe(0)
  })

  it.each([301, 302, 303, 307, 308])(
    'asks for no redirect, and fails a %i without reading it',
    async (status) => {
      const { stream, seen } = body(['{"keys":[]}'])
      let init: UpstreamInit | undefined
      const error = await upstreamFailure(
        callUpstream(
          limits,
          async (given) => {
            init = given
            return new Response(stream, { status, headers: { location: 'http://elsewhere/' } })
          },
          readJson,
        ),
      )
      expect(init?.redirect).toBe('manual')
      expect(init?.signal).toBeInstanceOf(AbortSignal)
      expect(error).toMatchObject({ kind: 'redirect', status })
      expect(seen.pulls).toBe(0)
      expect(seen.cancelled).toBe(true)
    },
  )

  it('cancels a body the reader did not read', async () => {
    const { stream, seen } = body(['secret'])
    const status = await callUpstream(
      limits,
      async () => new Response(stream, { status: 404 }),
      (response) => response.status,
    )
    expect(status).toBe(404)
    expect(seen.cancelled).toBe(true)
  })

  it('fails a body that is not JSON as invalid_response, without quoting it', async () => {
    const error = await upstreamFailure(
      callUpstream(limits, async () => new Response('<html>x'), readJson),
    )
    expect(error.kind).toBe('invalid_response')
    expect(error.message).not.toContain('<html>')
  })

  it('passes through what the reader throws, and sanitises anything else', async () => {
    const refused = new AuthError('identity_untrusted')
    await expect(
      callUpstream(
        limits,
        async () => new Response('{}', { status: 403 }),
        () => {
          throw refused
        },
      ),
    ).rejects.toBe(refused)
    const status = statusError('test', 500)
    await expect(
      callUpstream(
        limits,
        async () => new Response('', { status: 500 }),
        () => {
          throw status
        },
      ),
    ).rejects.toBe(status)
    const error = await upstreamFailure(
      callUpstream(
        limits,
        async () => {
          throw new TypeError('fetch failed: http://dir/admin/user/ada%40acme.com')
        },
        readJson,
      ),
    )
    expect(error.kind).toBe('network')
    expect(error.message).not.toContain('ada')
  })
})
