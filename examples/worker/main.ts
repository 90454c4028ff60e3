/** `npm run example:worker`: the Worker on workerd (from npm). Same environment as platform-api. */
import { withConfig } from '../local-stack.js'
import { startWorker } from './run.js'

await withConfig(
  'worker (Cloudflare Workers, on workerd)',
  async (config) => {
    const worker = await startWorker(config, Number(process.env.PORT ?? 8787))
    console.log(`worker bundle: ${(worker.bundleBytes / 1024).toFixed(1)} KiB minified`)
    return worker
  },
  '/profile',
)
