// Runs examples/worker/worker.ts on workerd (Cloudflare's runtime, from npm) on this machine:
// bundled with esbuild, configured by a workerd config written next to the bundle, reaching the
// tenant and the directory over the network (loopback included, for the local stack). Node
// compatibility (node:crypto for signatures) is on by the compatibility date.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AuthConfig } from 'canonical-auth'
import { type BuildOptions, build } from 'esbuild'

const root = join(import.meta.dirname, '..', '..')

/** A port nothing listens on now, for workerd's socket (it takes an address, not port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** How wrangler bundles the Worker: esbuild, ESM, minified, the `workerd` export condition. */
export function workerBuildOptions() {
  return {
    entryPoints: [join(import.meta.dirname, 'worker.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    alias: {
      'canonical-auth/fetch': join(root, 'src', 'adapters', 'fetch.ts'),
      'canonical-auth': join(root, 'src', 'index.ts'),
    },
    metafile: true,
    logLevel: 'silent',
  } satisfies BuildOptions
}

/** Bundles the Worker, starts workerd with it, and resolves once it answers. */
export async function startWorker(
  config: AuthConfig,
  port?: number,
): Promise<{ url: string; bundleBytes: number; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'canonical-auth-worker-'))
  const result = await build({ ...workerBuildOptions(), outfile: join(dir, 'worker.js') })
  const bundleBytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0)
  const listen = port ?? (await freePort())
  writeFileSync(join(dir, 'auth-config.json'), JSON.stringify(config))
  writeFileSync(
    join(dir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${listen}", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-11-01",
  bindings = [(name = "AUTH_CONFIG", json = embed "auth-config.json")],
  globalOutbound = "internet",
);
`,
  )
  const workerd: ChildProcess = spawn(
    join(root, 'node_modules', '.bin', 'workerd'),
    ['serve', 'config.capnp'],
    { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] },
  )
  const url = `http://127.0.0.1:${listen}`
  const close = async () => {
    await stopWorkerd(workerd)
    rmSync(dir, { recursive: true, force: true })
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await fetch(`${url}/healthz`)
      break
    } catch (error) {
      if (attempt >= 300) {
        await close()
        throw new Error('workerd did not start', { cause: error })
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return { url, bundleBytes, close }
}

/** Ends a workerd process by its pid and waits for it to exit. */
export async function stopWorkerd(workerd: ChildProcess): Promise<void> {
  if (workerd.pid === undefined || workerd.exitCode !== null) return
  const exited = new Promise((resolve) => workerd.once('exit', resolve))
  // workerd keeps nothing worth flushing here, and may wait on open requests past a SIGTERM.
  process.kill(workerd.pid, 'SIGKILL')
  await exited
}
