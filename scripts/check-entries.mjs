// Checks the built package's import graph: each adapter entry loads only its own framework, the
// core, the testing kit and the Redis store load none (the store drives the caller's client), and
// nothing but the testing kit imports a Node-only module.

import { readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join } from 'node:path'

const FRAMEWORKS = ['express', 'fastify', 'fastify-plugin', 'koa', 'hono', 'redis', 'ioredis']
const isFramework = (name) =>
  FRAMEWORKS.includes(name) ||
  name.startsWith('@modelcontextprotocol/sdk') ||
  name.startsWith('@nestjs/')
const allowed = {
  'index.js': [],
  'testing.js': [],
  'express.js': ['express'],
  'fastify.js': ['fastify'],
  'koa.js': ['koa'],
  'fetch.js': [],
  'hono.js': [],
  'nest.js': ['@nestjs/common', '@nestjs/core'],
  'redis.js': [],
  'mcp.js': ['@modelcontextprotocol/sdk/server/auth/errors.js'],
}

/** Every bare import reachable from a built file, following relative chunks. */
function bareImports(file, seen = new Set()) {
  if (seen.has(file)) return new Set()
  seen.add(file)
  const source = readFileSync(file, 'utf8')
  const found = new Set()
  for (const match of source.matchAll(/(?:from\s*|import\s*\(?\s*)["']([^"']+)["']/g)) {
    const specifier = match[1]
    if (specifier.startsWith('.')) {
      for (const inner of bareImports(join(dirname(file), specifier), seen)) found.add(inner)
    } else {
      found.add(specifier)
    }
  }
  return found
}

let failed = false
for (const [entry, frameworks] of Object.entries(allowed)) {
  const imports = bareImports(join('dist', entry))
  const stray = [...imports].filter((name) => isFramework(name) && !frameworks.includes(name))
  const isBuiltin = (name) => name.startsWith('node:') || builtinModules.includes(name)
  const nodeOnly = entry === 'testing.js' ? [] : [...imports].filter(isBuiltin)
  if (stray.length > 0 || nodeOnly.length > 0) {
    failed = true
    console.error(`${entry} imports ${[...stray, ...nodeOnly].join(', ')}`)
  } else {
    console.log(`${entry}: ${[...imports].sort().join(', ')}`)
  }
}
process.exit(failed ? 1 : 0)
