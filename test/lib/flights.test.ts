import { afterEach, describe, expect, it, vi } from 'vitest'
import { FLIGHT_GRACE_MS, Flights } from '../../src/core/lib/flights.js'
import { advance } from '../helpers.js'

// Work shared by concurrent callers, that nobody waits for past its deadline. A promise that never
// settles stands for work a platform dropped with the request that started it (its timers too).

const never = () => new Promise<string>(() => {})

afterEach(() => {
  vi.useRealTimers()
})

describe('Flights', () => {
  it('runs the work once for concurrent callers of one key, and again once it settled', async () => {
    const flights = new Flights<string, string>()
    let calls = 0
    const work = async () => `run ${++calls}`
    const all = await Promise.all([1, 2, 3].map(() => flights.run('k', work, 1_000)))
    expect(all).toEqual(['run 1', 'run 1', 'run 1'])
    expect(flights.size).toBe(0)
    await expect(flights.run('k', work, 1_000)).resolves.toBe('run 2')
    // Other keys run apart.
    await expect(flights.run('other', work, 1_000)).resolves.toBe('run 3')
  })

  it('shares a failure with every caller, then forgets it', async () => {
    const flights = new Flights<string, string>()
    const failing = () => Promise.reject(new Error('down'))
    const callers = [flights.run('k', failing, 1_000), flights.run('k', failing, 1_000)]
    for (const caller of callers) await expect(caller).rejects.toThrow('down')
    await expect(flights.run('k', async () => 'up', 1_000)).resolves.toBe('up')
  })

  it('starts afresh for a caller that finds a run past its deadline, and never counts the old one', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const flights = new Flights<string, string>()
    let release: ((value: string) => void) | undefined
    const dropped = flights.start('k', () => new Promise((resolve) => (release = resolve)), 1_000)
    expect(flights.has('k')).toBe(true)
    // Its own timeouts end the work within maxMs; it is taken for dropped a grace later.
    advance(1_000 + FLIGHT_GRACE_MS - 1)
    expect(flights.has('k')).toBe(true)
    advance(1)
    expect(flights.has('k')).toBe(false)
    expect(flights.live()).toBe(0)
    const fresh = flights.run('k', async () => 'fresh', 1_000)
    await expect(fresh).resolves.toBe('fresh')
    // Should the dropped run settle after all, it is no longer the current one.
    expect(flights.isCurrent('k', dropped)).toBe(false)
    release?.('late')
    await expect(dropped).resolves.toBe('late')
  })

  it('lets a caller that joined wait no longer than the deadline, then run the work itself', async () => {
    // Real timers: the joiner's own timer is what ends its wait.
    const flights = new Flights<string, string>()
    const dropped = flights.start('k', never, 50)
    void dropped
    let calls = 0
    const joined = flights.run('k', async () => `own run ${++calls}`, 50)
    await expect(joined).resolves.toBe('own run 1')
    expect(flights.size).toBe(0)
  })

  it('gives its joiners the outcome of a run that its own timeout ends, however late it started the timer', async () => {
    vi.useFakeTimers()
    const flights = new Flights<string, string>()
    let runs = 0
    // A fetch bound by its own timeout of maxMs, whose timer starts a little after the run does.
    const timingOut = async () => {
      runs += 1
      await new Promise((resolve) => setTimeout(resolve, 5))
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      throw new Error('timed out')
    }
    const callers = Array.from({ length: 3 }, () => flights.run('k', timingOut, 1_000))
    const outcomes = Promise.allSettled(callers)
    await vi.advanceTimersByTimeAsync(1_005)
    expect(runs).toBe(1)
    expect((await outcomes).map((outcome) => outcome.status)).toEqual(Array(3).fill('rejected'))
  })

  it('releases the joiner timer when the run settles first', async () => {
    vi.useFakeTimers()
    const flights = new Flights<string, string>()
    let release: ((value: string) => void) | undefined
    flights.start('k', () => new Promise((resolve) => (release = resolve)), 60_000)
    const joined = flights.run('k', never, 60_000)
    expect(vi.getTimerCount()).toBe(1)
    release?.('shared')
    await expect(joined).resolves.toBe('shared')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('forgets runs past due whose keys are never asked again, so dropped work stays bounded', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const flights = new Flights<string, string>()
    for (let i = 0; i < 1_000; i++) flights.start(`user ${i}`, never, 1_000)
    expect(flights.size).toBe(1_000)
    advance(1_000 + FLIGHT_GRACE_MS)
    // Once the runs kept reach twice what the last sweep left, those past due are forgotten.
    for (let i = 0; i < 100; i++) flights.start(`later ${i}`, never, 1_000)
    expect(flights.size).toBeLessThanOrEqual(100)
    expect(flights.has('later 99')).toBe(true)
    expect(flights.live()).toBe(flights.size)
  })
})
