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
      'canonical-auth/redis': fileURLToPath(new URL('./src/stores/redis.ts', import.meta.url)),
      'canonical-auth': fileURLToPath(new URL('./src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    restoreMocks: true,
    unstubGlobals: true,
    testTimeout: 15_000,
  },
})
