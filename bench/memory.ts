import { spawn } from 'node:child_process'

export interface MemoryResult {
  readonly users: number
  /** Heap in use after a full GC, at each checkpoint (0 users: the baseline). */
  readonly heap: ReadonlyArray<{ readonly users: number; readonly heapUsedMiB: number }>
  readonly elapsedSeconds: number
}

/**
 * `users` distinct users through `authenticate` in a separate process (started with
 * --expose-gc, so that each figure is the heap after a full collection).
 */
export async function runMemory(users: number): Promise<MemoryResult> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', new URL('memory-child.ts', import.meta.url).pathname],
    { env: { ...process.env, USERS: String(users) }, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
  })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`the memory run exited with ${code}`)
  return JSON.parse(output.trim().split('\n').at(-1) as string) as MemoryResult
}
