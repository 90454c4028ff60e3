import { afterEach, describe, expect, it, vi } from 'vitest'
import { NonceIssuer } from '../../src/core/dpop/nonce.js'
import { MemoryReplayStore } from '../../src/core/dpop/replay.js'

const SECRET = 'a-shared-secret-of-at-least-32-characters'

describe('server nonces over time', () => {
  const T0 = 1_800_000_000_000

  it('accepts a nonce for at least half its lifetime and at most all of it', async () => {
    const nonces = new NonceIssuer(SECRET, 300)
    // The start of a step: the nonce lives the whole 300 s.
    const start = Math.ceil(T0 / 150_000) * 150_000
    const issued = await nonces.current(start)
    expect(await nonces.accepts(issued, start + 149_999)).toBe(true)
    expect(await nonces.accepts(issued, start + 299_999)).toBe(true)
    expect(await nonces.accepts(issued, start + 300_000)).toBe(false)
    // The end of a step: still 150 s at least.
    const late = await nonces.current(start + 149_999)
    expect(await nonces.accepts(late, start + 299_998)).toBe(true)
  })

  it('hands out a new nonce each step, the same on every replica with the secret', async () => {
    const a = new NonceIssuer(SECRET, 60)
    const b = new NonceIssuer(SECRET, 60)
    const other = new NonceIssuer(`${SECRET}!`, 60)
    expect(await a.current(T0)).toBe(await b.current(T0))
    expect(await a.current(T0)).not.toBe(await a.current(T0 + 30_000))
    expect(await a.current(T0)).not.toBe(await other.current(T0))
    expect(await a.accepts(await other.current(T0), T0)).toBe(false)
  })

  it('never accepts a nonce from the future', async () => {
    const nonces = new NonceIssuer(SECRET, 60)
    expect(await nonces.accepts(await nonces.current(T0 + 30_000), T0)).toBe(false)
  })
})

describe('the in-memory replay store', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('answers true once per key while it lives, then forgets it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const store = new MemoryReplayStore(10)
    expect(await store.setIfAbsent('a', 1_000)).toBe(true)
    expect(await store.setIfAbsent('a', 1_000)).toBe(false)
    vi.advanceTimersByTime(999)
    expect(await store.setIfAbsent('a', 1_000)).toBe(false)
    vi.advanceTimersByTime(1)
    expect(await store.setIfAbsent('a', 1_000)).toBe(true)
  })

  it('fails when full of live keys, and makes room as they expire', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const store = new MemoryReplayStore(2)
    await store.setIfAbsent('a', 1_000)
    vi.advanceTimersByTime(500)
    await store.setIfAbsent('b', 1_000)
    await expect(store.setIfAbsent('c', 1_000)).rejects.toThrow(/full/)
    // A key already there is still a replay, full or not.
    expect(await store.setIfAbsent('b', 1_000)).toBe(false)
    vi.advanceTimersByTime(500)
    expect(await store.setIfAbsent('c', 1_000)).toBe(true)
    expect(await store.setIfAbsent('b', 1_000)).toBe(false)
  })
})
