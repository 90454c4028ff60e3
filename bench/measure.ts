/**
 * Throughput measurement with explicit semantics: operations completed divided by wall time, with
 * a fixed number of operations in flight, after a warm-up, repeated; reported as the median and
 * the min–max of the repetitions.
 */
export interface Measurement {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly runs: readonly number[]
}

export interface MeasureOptions {
  readonly durationMs: number
  readonly warmupMs: number
  readonly repetitions: number
  /** Operations kept in flight (1: one after the other). */
  readonly inFlight?: number
}

async function runFor(
  operation: () => unknown,
  inFlight: number,
  durationMs: number,
): Promise<number> {
  let ops = 0
  const start = performance.now()
  const end = start + durationMs
  const worker = async () => {
    while (performance.now() < end) {
      await operation()
      ops += 1
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  return ops / ((performance.now() - start) / 1000)
}

/** A synchronous operation measured without awaiting, so the floor carries no promise overhead. */
function runSyncFor(operation: () => unknown, durationMs: number): number {
  let ops = 0
  const start = performance.now()
  const end = start + durationMs
  while (performance.now() < end) {
    for (let i = 0; i < 64; i++) operation()
    ops += 64
  }
  return ops / ((performance.now() - start) / 1000)
}

export async function measure(
  operation: () => unknown,
  options: MeasureOptions & { sync?: boolean },
): Promise<Measurement> {
  const inFlight = options.inFlight ?? 1
  const once = (ms: number) =>
    options.sync ? Promise.resolve(runSyncFor(operation, ms)) : runFor(operation, inFlight, ms)
  await once(options.warmupMs)
  const runs: number[] = []
  for (let i = 0; i < options.repetitions; i++) runs.push(await once(options.durationMs))
  return summarize(runs)
}

/** The median and min–max of repeated runs. */
export function summarize(runs: readonly number[]): Measurement {
  const sorted = [...runs].sort((a, b) => a - b)
  return {
    median: sorted[Math.floor(sorted.length / 2)] as number,
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
    runs,
  }
}
