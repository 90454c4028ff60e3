import { redisAvailable } from './redis-server.js'

/** Runs once per test run, before any test file. */
export default function setup(): void {
  if (!redisAvailable()) {
    process.stderr.write(
      '\nSKIPPED: the Redis store tests need redis-server (apt-get install redis-server, or set ' +
        'REDIS_SERVER); `bash scripts/with-redis.sh npm test` installs and runs one\n\n',
    )
  }
}
