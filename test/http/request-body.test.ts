import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { readBody } from '../../src/core/http/request-body.js'
import { authFailure } from '../helpers.js'

const options = { limit: 16, deadlineMs: 5_000 }
const bytes = (text: string) => new TextEncoder().encode(text)

/** A body whose chunks arrive when the test says so, counting how many were asked for. */
function controlledBody() {
  const waiting: ((chunk: IteratorResult<Uint8Array>) => void)[] = []
  let asked = 0
  const stream: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        asked += 1
        return new Promise((resolve) => waiting.push(resolve))
      },
    }),
  }
  return {
    stream,
    get asked() {
      return asked
    },
    send: (text: string) => waiting.shift()?.({ done: false, value: bytes(text) }),
    end: () => waiting.shift()?.({ done: true, value: undefined }),
  }
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('readBody', () => {
  it('reads a body to its end, from bytes or strings', async () => {
    async function* chunks() {
      yield bytes('{"email":')
      yield '"ada@acme.com"}'
    }
    const read = await readBody(chunks(), { limit: 4_096, deadlineMs: 5_000 })
    expect(new TextDecoder().decode(read.bytes)).toBe('{"email":"ada@acme.com"}')
    expect(read.ended).toBe(true)
  })

  it('stops one byte past the limit and says the body did not end', async () => {
    let pulled = 0
    async function* endless() {
      for (;;) {
        pulled += 1
        yield bytes('0123456789')
      }
    }
    const read = await readBody(endless(), options)
    expect(read.ended).toBe(false)
    expect(read.bytes.byteLength).toBeGreaterThan(options.limit)
    expect(pulled).toBe(2)
  })

  it('refuses a body that has not arrived by the deadline with invalid_request', async () => {
    const body = controlledBody()
    const reading = authFailure(readBody(body.stream, options))
    body.send('{"em')
    await vi.advanceTimersByTimeAsync(4_999)
    body.send('ail"')
    await vi.advanceTimersByTimeAsync(1)
    expect((await reading).code).toBe('invalid_request')
  })

  it('keeps one timer while it reads and none once the body has ended', async () => {
    const body = controlledBody()
    const reading = readBody(body.stream, options)
    expect(vi.getTimerCount()).toBe(1)
    body.send('{}')
    await vi.advanceTimersByTimeAsync(0)
    body.end()
    expect((await reading).ended).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('clears its timer when the body is cut at the limit', async () => {
    const body = controlledBody()
    const reading = readBody(body.stream, options)
    body.send('x'.repeat(options.limit + 1))
    expect((await reading).ended).toBe(false)
    expect(vi.getTimerCount()).toBe(0)
    expect(body.asked).toBe(1)
  })

  it('clears its timer when the stream fails', async () => {
    const failing: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('aborted')) }),
    }
    await expect(readBody(failing, options)).rejects.toThrow('aborted')
    expect(vi.getTimerCount()).toBe(0)
  })
})
