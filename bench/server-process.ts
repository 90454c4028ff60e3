import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
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
  // A paused process would hold the signal until it runs again.
  holdServer(child, false)
  child.kill('SIGTERM')
  await exited
}

/**
 * Pauses a server's process (SIGSTOP) while another is measured, or lets it run again (SIGCONT)
 * before its own load: work a server leaves after its load (a collection, its heap shrinking)
 * then cannot take the core another server is measured on. Nothing on Windows.
 */
export function holdServer(child: ChildProcess, held: boolean): void {
  if (process.platform === 'win32' || child.exitCode !== null || child.signalCode !== null) return
  child.kill(held ? 'SIGSTOP' : 'SIGCONT')
}

// Clock ticks per second of /proc's CPU times: 100 on Linux (USER_HZ).
const TICKS_PER_SECOND = 100

/**
 * The CPU time (user and system) a child process has used so far, in microseconds, from
 * `/proc/<pid>/stat`; undefined where that cannot be read (not Linux, or the process is gone).
 */
export function cpuMicros(child: ChildProcess): number | undefined {
  if (child.pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8')
    // The fields after the command name, which is in parentheses and may hold spaces: utime and
    // stime are the 14th and 15th fields of the line, the 12th and 13th after the name.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return Number.isFinite(ticks) ? (ticks * 1e6) / TICKS_PER_SECOND : undefined
  } catch {
    return undefined
  }
}
