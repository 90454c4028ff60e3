import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { createInterface } from 'node:readline'

// With two or more cores a benchmark server gets core 0 to itself and the load generator (this
// process) the others, so the two never compete for one core.
export const pinning = availableParallelism() >= 2 && hasTaskset()

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Moves this process (the load generator) off core 0, when pinning. */
export function pinLoadGenerator(): void {
  if (pinning) execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' })
}

/**
 * Starts a benchmark server script (run with tsx) in its own process, on core 0 when pinning, and
 * resolves with its port once it prints `listening <port>`.
 */
export async function startServer(
  script: URL,
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): Promise<{ child: ChildProcess; port: number }> {
  const node = [process.execPath, ...nodeArgs, '--import', 'tsx', script.pathname]
  const [command, ...args] = (pinning ? ['taskset', '-c', '0', ...node] : node) as [
    string,
    ...string[],
  ]
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`benchmark server exited with ${code}`)))
    lines.on('line', (line) => {
      const match = /^listening (\d+)$/.exec(line)
      if (match) resolve(Number(match[1]))
    })
  })
  return { child, port }
}

/** Stops a server started by {@link startServer}, by its pid, and waits for it to exit. */
export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}
