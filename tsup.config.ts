import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    testing: 'src/testing/index.ts',
    express: 'src/adapters/express.ts',
    fastify: 'src/adapters/fastify.ts',
    koa: 'src/adapters/koa.ts',
    fetch: 'src/adapters/fetch.ts',
    hono: 'src/adapters/hono.ts',
    nest: 'src/adapters/nest.ts',
    redis: 'src/stores/redis.ts',
    mcp: 'src/adapters/mcp.ts',
    // The command-line tool (package.json `bin`), Node-only.
    cli: 'src/cli/bin.ts',
  },
  format: ['esm', 'cjs'],
  // One copy of the core in the CJS build too, so `isAuthError` and shared caches see one module.
  splitting: true,
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'neutral',
  // Dependencies stay external: jose and ky are ESM-only and load through require(esm) on
  // Node >= 20.19, which `engines` requires.
  external: [
    'jose',
    'ky',
    'zod',
    'lru-cache',
    'msw',
    'express',
    'fastify',
    'koa',
    'hono',
    /^@nestjs\//,
    /^@modelcontextprotocol\/sdk\//,
    /^node:/,
  ],
  treeshake: true,
  removeNodeProtocol: false,
})
