// The size of a Cloudflare Worker built on canonical-auth: examples/worker/worker.ts bundled as
// wrangler would (esbuild, ESM, minified, the workerd and browser export conditions), in bytes,
// gzipped, and by package.
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { workerBuildOptions } from '../examples/worker/run.js'

export interface WorkerBundle {
  readonly bytes: number
  readonly gzipBytes: number
  /** Bytes in the bundle by package (`canonical-auth` for the package's own code). */
  readonly byPackage: Readonly<Record<string, number>>
}

export async function measureWorkerBundle(): Promise<WorkerBundle> {
  const result = await build({ ...workerBuildOptions(), write: false })
  const output = result.outputFiles[0]
  const meta = Object.values(result.metafile.outputs)[0]
  if (output === undefined || meta === undefined) throw new Error('esbuild wrote no bundle')
  const byPackage: Record<string, number> = {}
  for (const [file, { bytesInOutput }] of Object.entries(meta.inputs)) {
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? 'canonical-auth'
    byPackage[name] = (byPackage[name] ?? 0) + bytesInOutput
  }
  return {
    bytes: output.contents.byteLength,
    gzipBytes: gzipSync(output.contents).byteLength,
    byPackage,
  }
}

/** The report's section on the bundle. */
export function workerBundleSection(bundle: WorkerBundle): string {
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`
  const rows = Object.entries(bundle.byPackage)
    .sort(([, a], [, b]) => b - a)
    .map(([name, bytes]) => `| ${name} | ${kib(bytes)} |`)
  return `## Worker bundle

\`examples/worker\` (a Cloudflare Worker on \`canonical-auth/fetch\`) bundled as wrangler bundles it
(esbuild, ESM, minified, the \`workerd\` export condition): ${kib(bundle.bytes)}, ${kib(bundle.gzipBytes)} gzipped
(Workers accept 3 MiB gzipped on the free plan, 10 MiB on paid ones).

| package | minified |
| --- | ---: |
${rows.join('\n')}`
}
