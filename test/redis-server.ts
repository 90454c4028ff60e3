import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** A throwaway redis-server on 127.0.0.1, started and ended by pid. */
export interface RedisServer {
  readonly url: string
  readonly port: number
  /** Kills the server (SIGKILL): clients see the connection drop, as in a crash. */
  kill(): Promise<void>
  /** Starts the server again on the same port, empty. */
  restart(): Promise<void>
  /** Freezes the server (SIGSTOP): connections stay open and nothing answers. */
  pause(): void
  resume(): void
  stop(): Promise<void>
}

/** The redis-server binary: `REDIS_SERVER`, else the first on PATH. */
export function redisServerBinary(): string | undefined {
  const candidates = [
    process.env.REDIS_SERVER,
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'redis-server')),
  ]
  for (const candidate of candidates) {
    if (candidate === undefined || candidate === '') continue
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

/**
 * Whether the Redis tests can run here. `.ci/run` (through scripts/with-redis.sh) sets
 * `CANONICAL_AUTH_REQUIRE_REDIS=1`, so a missing server fails CI instead of skipping the tests.
 */
export function redisAvailable(): boolean {
  const available = redisServerBinary() !== undefined
  if (!available && process.env.CANONICAL_AUTH_REQUIRE_REDIS === '1') {
    throw new Error('CANONICAL_AUTH_REQUIRE_REDIS=1 but no redis-server binary was found')
  }
  // Without a server the tests are skipped; test/global-setup.ts says so once per run.
  return available
}

function launch(binary: string, port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData)
        child.stdout?.resume()
        resolve(child)
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.resume()
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)))
    child.once('error', reject)
  })
}

function ended(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Starts a redis-server on a free loopback port. */
export async function startRedisServer(): Promise<RedisServer> {
  const binary = redisServerBinary()
  if (binary === undefined) throw new Error('no redis-server binary')
  let child: ChildProcess | undefined
  let port = 0
  for (let attempt = 0; child === undefined; attempt++) {
    port = 20_000 + Math.floor(Math.random() * 40_000)
    try {
      child = await launch(binary, port)
    } catch (error) {
      if (attempt >= 5) throw error
    }
  }
  let current: ChildProcess = child
  const kill = async (signal: NodeJS.Signals) => {
    current.kill('SIGCONT')
    current.kill(signal)
    await ended(current)
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => kill('SIGKILL'),
    async restart() {
      await kill('SIGKILL')
      current = await launch(binary, port)
    },
    pause: () => current.kill('SIGSTOP'),
    resume: () => current.kill('SIGCONT'),
    stop: () => kill('SIGTERM'),
  }
}
