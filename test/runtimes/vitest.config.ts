import { availableParallelism } from 'node:os'
import { defineConfig, mergeConfig } from 'vitest/config'
import base from '../../vitest.config.js'

// The core's test files, run by Deno and by Bun (each runs vitest itself). Left out: the Node
// framework adapters, the Redis store, the examples and the runtimes' own tests, which need
// Node-only peers or servers.
const config = mergeConfig(
  base,
  defineConfig({
    // Vite's loader hands Deno and Bun zod's CommonJS build as a namespace without `z`.
    test: {
      server: { deps: { inline: ['zod'] } },
      // Most of these files wait on loopback servers and deadlines: two at a time even on two
      // cores (CI runs both runtimes side by side, in under three minutes here).
      maxWorkers: Math.max(2, availableParallelism() - 1),
    },
  }),
)
// Set, not merged: mergeConfig would add these to the Node run's own list.
config.test.include = [
  'test/{config,discovery,faults,http,jwks,lib,resolve,upstream,verify}/**/*.test.ts',
  'test/dpop/{authenticate,config,time}.test.ts',
  'test/{authenticate,differential,errors,events,fetch-adapters,fuzz,hot-path}.test.ts',
  'test/{testing-directory,testing-kit,top-level}.test.ts',
]
export default config
