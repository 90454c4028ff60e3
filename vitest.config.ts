import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: {
    alias: {
      'canonical-auth/testing': fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)),
      'canonical-auth/express': fileURLToPath(
        new URL('./src/adapters/express.ts', import.meta.url),
      ),
      'canonical-auth/fastify': fileURLToPath(
        new URL('./src/adapters/fastify.ts', import.meta.url),
      ),
      'canonical-auth/koa': fileURLToPath(new URL('./src/adapters/koa.ts', import.meta.url)),
      'canonical-auth/fetch': fileURLToPath(new URL('./src/adapters/fetch.ts', import.meta.url)),
      'canonical-auth/hono': fileURLToPath(new URL('./src/adapters/hono.ts', import.meta.url)),
      'canonical-auth/nest': fileURLToPath(new URL('./src/adapters/nest.ts', import.meta.url)),
      'canonical-auth/redis': fileURLToPath(new URL('./src/stores/redis.ts', import.meta.url)),
      'canonical-auth/mcp': fileURLToPath(new URL('./src/adapters/mcp.ts', import.meta.url)),
      'canonical-auth': fileURLToPath(new URL('./src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/global-setup.ts'],
    restoreMocks: true,
    unstubGlobals: true,
    // Generous bounds: the suite must pass on a loaded two-core machine. No test asserts speed;
    // tests that check a deadline bound their own waits.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // Only a test this slow is listed by name, so that a failure stands out in the output.
    slowTestThreshold: 15_000,
  },
})
