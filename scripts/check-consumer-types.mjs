// Type-checks a consumer project that installs canonical-auth with its dependencies only: no msw,
// no framework. `skipLibCheck: false`, so every declaration file the package ships must compile
// there (a `import … from 'msw'` in the testing kit's types would fail it). Run after the build.

import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const consumer = mkdtempSync(join(tmpdir(), 'canonical-auth-consumer-'))
try {
  const modules = join(consumer, 'node_modules')
  const own = join(modules, 'canonical-auth')
  mkdirSync(own, { recursive: true })
  cpSync(join(root, 'dist'), join(own, 'dist'), { recursive: true })
  cpSync(join(root, 'package.json'), join(own, 'package.json'))
  // The package's dependencies and Node's types, and nothing else from the workspace.
  for (const name of ['jose', 'ky', 'zod', 'lru-cache', '@types/node', 'undici-types']) {
    const target = join(modules, name)
    mkdirSync(join(target, '..'), { recursive: true })
    symlinkSync(join(root, 'node_modules', name), target, 'dir')
  }
  writeFileSync(
    join(consumer, 'consumer.ts'),
    [
      "import { createAuth, isAuthError, type AuthContext } from 'canonical-auth'",
      "import { createTestDirectory, createTestIssuer, type MswHandler } from 'canonical-auth/testing'",
      "import { createRedisStore } from 'canonical-auth/redis'",
      // The fetch adapter needs no framework: standard Request and Response only.
      "import { requireAuth as fetchGuard, type FetchGuard } from 'canonical-auth/fetch'",
      // Claims declared once by module augmentation type `token.claims` through the built types.
      "declare module 'canonical-auth' {",
      '  interface TokenClaims { org_id?: string }',
      '}',
      'export function orgOf(context: AuthContext): string | undefined {',
      '  const org: string | undefined = context.token?.claims.org_id',
      '  // @ts-expect-error the declared type holds',
      '  const wrong: number | undefined = context.token?.claims.org_id',
      '  return wrong === undefined ? org : undefined',
      '}',
      'export async function main(): Promise<AuthContext | undefined> {',
      '  const issuer = await createTestIssuer()',
      '  const directory = await createTestDirectory()',
      '  const handlers: MswHandler[] = [...issuer.handlers, ...directory.handlers]',
      '  void handlers',
      '  void createRedisStore',
      '  const guard: FetchGuard = fetchGuard(createAuth({ auth0: issuer.auth0 }))',
      '  void guard',
      '  const auth = createAuth({ auth0: issuer.auth0, directory: { baseUrl: directory.baseUrl } })',
      '  try {',
      '    return await auth.authenticate({ headers: { authorization: `Bearer ${await issuer.sign()}` } })',
      '  } catch (error) {',
      '    if (isAuthError(error)) return undefined',
      '    throw error',
      '  }',
      '}',
      '',
    ].join('\n'),
  )
  for (const [moduleKind, resolution] of [
    ['nodenext', 'nodenext'],
    ['esnext', 'bundler'],
  ]) {
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          target: 'es2022',
          module: moduleKind,
          moduleResolution: resolution,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    )
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ type: 'module', private: true }))
    execFileSync(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', consumer],
      {
        stdio: 'inherit',
      },
    )
    console.log(`consumer without msw or a framework type-checks (${moduleKind}/${resolution})`)
  }
} finally {
  rmSync(consumer, { recursive: true, force: true })
}
