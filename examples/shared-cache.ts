import type { AuthConfig } from 'canonical-auth'
import { createRedisStore } from 'canonical-auth/redis'
import { createClient } from 'redis'

/**
 * With `REDIS_URL`, the user cache is shared through Redis by every replica of a service (and by
 * every service using the same `prefix`): a user resolved on one replica costs the others no
 * directory call; with `CACHE_SECRET` (32+ characters) entries are signed, so only replicas holding
 * it can write identities others will believe. Without `REDIS_URL`, the config is returned
 * unchanged (in-memory cache only).
 */
export async function withSharedCache(
  config: AuthConfig,
  url = process.env.REDIS_URL,
  prefix = process.env.REDIS_PREFIX,
  secret = process.env.CACHE_SECRET,
): Promise<{ config: AuthConfig; close(): Promise<void> }> {
  if (url === undefined || url === '') return { config, close: async () => {} }
  const client = createClient({
    url,
    socket: { reconnectStrategy: (retries) => Math.min(retries * 100, 2_000) },
  })
  // Redis errors are reported here, once per failure; canonical-auth falls back to the directory.
  client.on('error', (error: Error) => console.warn(`redis: ${error.message}`))
  await client.connect()
  return {
    config: {
      ...config,
      cache: { ...config.cache, store: createRedisStore({ client, prefix, secret }) },
    },
    close: async () => {
      client.destroy()
    },
  }
}
