import { createTestIssuer, type TestIssuer } from 'canonical-auth/testing'
import { decodeProtectedHeader, type JWSHeaderParameters } from 'jose'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { IssuerMetadata } from '../../src/core/jwks/issuer-metadata.js'
import { RemoteKeySet } from '../../src/core/jwks/key-set.js'
import { FLIGHT_GRACE_MS } from '../../src/core/lib/flights.js'
import { advance } from '../helpers.js'

// A platform that ends a request's unfinished work with the request (Cloudflare Workers) leaves a
// key set fetch it started unsettled for ever, its timers included. A location whose key set URL
// never comes stands for such a fetch here: nothing times it out, as nothing would there.

const OPTIONS = { timeoutMs: 100, maxAgeMs: 60_000, cooldownMs: 30_000, staleIfErrorMs: 600_000 }
// Metadata, then the key set: each read within the timeout, at most two metadata reads; then the
// grace every shared run is given past its own timeouts.
const FETCH_DEADLINE_MS = 3 * OPTIONS.timeoutMs + FLIGHT_GRACE_MS

let issuer: TestIssuer
let header: JWSHeaderParameters

beforeEach(async () => {
  issuer = await createTestIssuer()
  header = decodeProtectedHeader(await issuer.sign())
})

afterEach(async () => {
  vi.useRealTimers()
  await issuer.close()
})

/** A key set whose URL comes from a location that drops the fetches it is told to. */
function keySetDropping(drop: (call: number) => boolean) {
  let calls = 0
  const location = {
    metadataUrl: `${issuer.issuer}.well-known/openid-configuration`,
    jwksUri: () =>
      drop(++calls) ? new Promise<string>(() => {}) : Promise.resolve(issuer.jwksUri),
  } as unknown as IssuerMetadata
  const keySet = new RemoteKeySet(location, OPTIONS)
  const outcomes: string[] = []
  keySet.observe((outcome) => outcomes.push(outcome))
  return { keySet, outcomes, calls: () => calls }
}

describe('a key set fetch dropped with the request that started it', () => {
  it('is abandoned by the first caller after its deadline, who fetches afresh', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { keySet, outcomes, calls } = keySetDropping((call) => call === 1)
    void keySet.getKey(header)
    advance(FETCH_DEADLINE_MS)
    await expect(keySet.getKey(header)).resolves.toBeDefined()
    expect(calls()).toBe(2)
    expect(outcomes).toEqual(['ok'])
  })

  it('is waited for by a caller that joined it no longer than its deadline', async () => {
    const { keySet, calls } = keySetDropping((call) => call === 1)
    void keySet.getKey(header)
    // Joins the dropped fetch: its own timer ends the wait, then it fetches afresh.
    await expect(keySet.getKey(header)).resolves.toBeDefined()
    expect(calls()).toBe(2)
  })

  it('never wedges the background refresh of a copy past its max age', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { keySet, outcomes, calls } = keySetDropping((call) => call === 2)
    await keySet.getKey(header)
    advance(OPTIONS.maxAgeMs)
    // Served from the kept copy; the refresh it starts in the background is dropped.
    expect(keySet.selectedKey(header)).toBeDefined()
    expect(calls()).toBe(2)
    expect(keySet.selectedKey(header)).toBeDefined()
    expect(calls()).toBe(2)
    advance(FETCH_DEADLINE_MS)
    const background: Promise<unknown>[] = []
    expect(keySet.selectedKey(header, (task) => background.push(task))).toBeDefined()
    expect(calls()).toBe(3)
    expect(background).toHaveLength(1)
    await background[0]
    expect(outcomes).toEqual(['ok', 'ok'])
    // Refreshed: a fresh copy again, and no refresh started.
    keySet.selectedKey(header, (task) => background.push(task))
    expect(background).toHaveLength(1)
  })

  it('hands a background refresh to waitUntil, through getKey too', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { keySet, outcomes } = keySetDropping(() => false)
    await keySet.getKey(header)
    advance(OPTIONS.maxAgeMs)
    const background: Promise<unknown>[] = []
    await keySet.keyFor(header, (task) => background.push(task))
    expect(background).toHaveLength(1)
    await background[0]
    expect(outcomes).toEqual(['ok', 'ok'])
  })

  it('serves the request when the platform refuses the background task', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { keySet, outcomes } = keySetDropping(() => false)
    await keySet.getKey(header)
    advance(OPTIONS.maxAgeMs)
    const refusing = () => {
      throw new TypeError('waitUntil refused')
    }
    expect(keySet.selectedKey(header, refusing)).toBeDefined()
    await vi.waitFor(() => expect(outcomes).toEqual(['ok', 'ok']))
  })
})
