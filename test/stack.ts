import { type Auth, type AuthConfig, createAuth } from 'canonical-auth'
import {
  createTestDirectory,
  createTestIssuer,
  type TestDirectory,
  type TestIssuer,
} from 'canonical-auth/testing'
import { afterEach, beforeEach, vi } from 'vitest'

interface Closable {
  close(): Promise<void>
}

/**
 * Registers an afterEach hook that closes, one after the other, every instance handed to the
 * returned `keep` during the test; `keep` returns what it was given.
 *
 * @example
 * ```ts
 * const keep = useInstances()
 * const authFor = (config: AuthConfig) => keep(createAuth(config))
 * ```
 */
export function useInstances(): <T extends Closable>(instance: T) => T {
  const instances: Closable[] = []
  afterEach(async () => {
    for (const instance of instances.splice(0)) await instance.close()
  })
  return (instance) => {
    instances.push(instance)
    return instance
  }
}

/** A fresh test issuer and directory per test, and the instances made on them. */
export interface TestStack {
  readonly issuer: TestIssuer
  readonly directory: TestDirectory
  /** `createAuth` on this issuer with the stack's defaults and `extra`; closed after the test. */
  auth(extra?: Partial<AuthConfig>): Auth
  /**
   * The key set fetches the instances made with `auth` made in this test, counted by their
   * `jwks.fetch` events (once each fetch has settled). A count of requests the issuer received
   * would also count the runtime's own retries: Deno's and Bun's `fetch` send a request again
   * when a kept-alive connection is reset.
   */
  readonly jwksFetches: number
}

/**
 * Registers the before/after hooks that give each test its own issuer and directory, and close
 * them (and every instance made with `auth`) afterwards. `defaults` builds the configuration
 * every instance starts from; `fakeDate` fakes `Date` for the test (set with vi.setSystemTime).
 */
export function useTestStack(
  defaults: (stack: TestStack) => Partial<AuthConfig> = () => ({}),
  options: { fakeDate?: boolean } = {},
): TestStack {
  let issuer: TestIssuer | undefined
  let directory: TestDirectory | undefined
  let jwksFetches = 0
  const stack: TestStack = {
    get issuer() {
      if (issuer === undefined) throw new Error('the test stack is used outside a test')
      return issuer
    },
    get directory() {
      if (directory === undefined) throw new Error('the test stack is used outside a test')
      return directory
    },
    auth(extra = {}) {
      const config = { auth0: stack.issuer.auth0, ...defaults(stack), ...extra }
      const { onEvent } = config
      return keep(
        createAuth({
          ...config,
          onEvent(event) {
            if (event.type === 'jwks.fetch') jwksFetches += 1
            return onEvent?.(event)
          },
        }),
      )
    },
    get jwksFetches() {
      return jwksFetches
    },
  }
  beforeEach(async () => {
    if (options.fakeDate) vi.useFakeTimers({ toFake: ['Date'] })
    jwksFetches = 0
    issuer = await createTestIssuer()
    directory = await createTestDirectory()
  })
  afterEach(async () => {
    vi.useRealTimers()
    await issuer?.close()
    await directory?.close()
  })
  // Registered last, so run first (hooks run as a stack): instances close before their upstreams.
  const keep = useInstances()
  return stack
}
