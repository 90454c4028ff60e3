import { spawn } from 'node:child_process'

export interface AllocationResult {
  readonly calls: number
  /** Heap growth per cached `authenticate` call, in bytes, with no collection in between. */
  readonly bytesPerCall: number
  /** Collections that ran while counting; the figure holds only when this is 0. */
  readonly collections: number
}

/**
 * Bytes allocated per `authenticate` call for a token and user already in memory, counted in a
 * process of its own (--expose-gc, a 128 MiB young generation, so no collection runs meanwhile).
 */
export async function runAllocation(calls: number): Promise<AllocationResult> {
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      '--max-semi-space-size=128',
      '--import',
      'tsx',
      new URL('allocation-child.ts', import.meta.url).pathname,
    ],
    { env: { ...process.env, CALLS: String(calls) }, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
  })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`the allocation run exited with ${code}`)
  return JSON.parse(output.trim().split('\n').at(-1) as string) as AllocationResult
}
