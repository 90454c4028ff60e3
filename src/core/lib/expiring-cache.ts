import { LRUCache } from 'lru-cache'

/**
 * A bounded LRU whose entries expire `maxAgeMs` after they were set. The clock is read on each
 * check (`ttlResolution: 0`): lru-cache's default keeps a reading for a millisecond and arms a
 * timer to drop it, which a busy server would re-arm every millisecond of every request.
 */
export function expiringCache<K extends {}, V extends {}>(
  max: number,
  maxAgeMs: number,
): LRUCache<K, V> {
  return new LRUCache<K, V>({ max, ttl: maxAgeMs, ttlResolution: 0 })
}
