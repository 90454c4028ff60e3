/** A platform's `waitUntil`: keeps the request's work alive until the promise settles. */
export type WaitUntil = (task: Promise<unknown>) => void

/**
 * Hands background work to the platform's `waitUntil`, when there is one. A platform that refuses
 * the task (it throws) leaves it running unowned: the request it came with is served anyway.
 */
export function handOff(task: Promise<unknown>, waitUntil: WaitUntil | undefined): void {
  try {
    waitUntil?.(task)
  } catch {
    // Refused: the task runs on, unowned.
  }
}

/**
 * How much longer than its `maxMs` a run is waited for before it is taken for dropped. Work bound
 * by timeouts of its own (a fetch's `timeoutMs`) starts their timers a little after its run
 * starts; without this margin its joiners' timers would fire first, and a run about to fail by its
 * own timeout would be raced by a second one.
 */
export const FLIGHT_GRACE_MS = 1_000

interface Flight<T> {
  readonly promise: Promise<T>
  readonly deadlineAt: number
}

/**
 * Work shared by concurrent callers, one run per key (one fetch of a key set, one directory call
 * per user), that nobody waits for past its deadline.
 *
 * A platform that drops the unfinished work of a request when the request ends (Cloudflare
 * Workers) may leave a run started by one request unsettled for ever, its timers included. So a
 * caller that finds a run past its deadline starts a new one instead of joining it, and a caller
 * that joins a run waits for it no longer than its deadline, on a timer of its own (released when
 * either comes first), then asks again. A run that is replaced no longer counts:
 * {@link isCurrent} tells its starter whether it still is the current one.
 */
export class Flights<K, T> {
  readonly #running = new Map<K, Flight<T>>()
  // Runs past due are forgotten when their key is asked again, and in a sweep whenever the runs
  // kept double: keys never asked again (dropped work for a user not seen since) stay bounded.
  #sweepAt = 64

  /** The number of runs kept, past their deadline or not. */
  get size(): number {
    return this.#running.size
  }

  /** The number of runs that are not past their deadline (runs past it are forgotten). */
  live(now = Date.now()): number {
    for (const [key, flight] of this.#running) {
      if (flight.deadlineAt <= now) this.#running.delete(key)
    }
    return this.#running.size
  }

  /** Whether a run for `key` is going on and not past its deadline. */
  has(key: K, now = Date.now()): boolean {
    const flight = this.#running.get(key)
    return flight !== undefined && flight.deadlineAt > now
  }

  /**
   * A run for `key` going on now, joined: its outcome, or, should its deadline pass first, what
   * `late` gives then (asking again, which starts a new run). `undefined` when there is none (or
   * it is past due).
   */
  join(key: K, late: () => Promise<T>, now = Date.now()): Promise<T> | undefined {
    const flight = this.#running.get(key)
    if (flight === undefined) return undefined
    if (flight.deadlineAt <= now) {
      this.#running.delete(key)
      return undefined
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Past due: abandoned, whatever the clock says, so that `late` starts afresh.
        if (this.#running.get(key) === flight) this.#running.delete(key)
        resolve(late())
      }, flight.deadlineAt - now)
      flight.promise.then(
        (value) => {
          clearTimeout(timer)
          resolve(value)
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error)
        },
      )
    })
  }

  /**
   * Starts `work` for `key` (replacing a run past its deadline), which its own timeouts end within
   * `maxMs`: its deadline is {@link FLIGHT_GRACE_MS} after that. Its promise is returned as it is,
   * and the run is forgotten when it settles. Callers should {@link join} first.
   */
  start(key: K, work: () => Promise<T>, maxMs: number): Promise<T> {
    if (this.#running.size >= this.#sweepAt) {
      this.live()
      this.#sweepAt = Math.max(64, this.#running.size * 2)
    }
    const promise = work()
    const flight: Flight<T> = { promise, deadlineAt: Date.now() + maxMs + FLIGHT_GRACE_MS }
    this.#running.set(key, flight)
    const done = () => {
      if (this.#running.get(key) === flight) this.#running.delete(key)
    }
    promise.then(done, done)
    return promise
  }

  /** {@link join}, or {@link start} when there is nothing to join. */
  run(key: K, work: () => Promise<T>, maxMs: number): Promise<T> {
    return this.join(key, () => this.run(key, work, maxMs)) ?? this.start(key, work, maxMs)
  }

  /**
   * Whether `promise` is the run kept for `key` now: not replaced by a new run, nor forgotten past
   * its deadline (a run past due that nobody replaced yet still is, and its outcome still counts).
   */
  isCurrent(key: K, promise: Promise<T>): boolean {
    const flight = this.#running.get(key)
    return flight !== undefined && flight.promise === promise
  }
}
