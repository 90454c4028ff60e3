import { type Auth, type AuthConfig, createAuth } from 'canonical-auth'
import {
  createTestDirectory,
  createTestIssuer,
  type TestDirectory,
  type TestIssuer,
} from 'canonical-auth/testing'
import { afterEach, beforeEach, vi } from 'vitest'

/** A fresh test issuer and directory per test, and the instances made on them. */
export interface TestStack {
  readonly issuer: TestIssuer
  readonly directory: TestDirectory
  /** `createAuth` on this issuer with the stack's defaults and `extra`; closed after the test. */
  auth(extra?: Partial<AuthConfig>): Auth
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
  const instances: Auth[] = []
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
      const auth = createAuth({ auth0: stack.issuer.auth0, ...defaults(stack), ...extra })
      instances.push(auth)
      return auth
    },
  }
  beforeEach(async () => {
    if (options.fakeDate) vi.useFakeTimers({ toFake: ['Date'] })
    issuer = await createTestIssuer()
    directory = await createTestDirectory()
  })
  afterEach(async () => {
    vi.useRealTimers()
    for (const auth of instances.splice(0)) await auth.close()
    await issuer?.close()
    await directory?.close()
  })
  return stack
}
