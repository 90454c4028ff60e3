/**
 * `npm run example:user-directory`: the user directory on PGlite (or DATABASE_URL).
 * Env: PORT (default 8080), HOST (default 127.0.0.1), DIRECTORY_TOKEN (require this bearer
 * credential), DATABASE_URL, PGLITE_DATA_DIR.
 */
import { openDatabase } from './database.js'
import { startDirectoryServer } from './server.js'
import { createUserStore } from './store.js'

const database = await openDatabase()
const store = createUserStore(database.db)
await store.migrate()
const server = await startDirectoryServer({
  store,
  port: Number(process.env.PORT ?? 8080),
  host: process.env.HOST ?? '127.0.0.1',
  ...(process.env.DIRECTORY_TOKEN ? { token: process.env.DIRECTORY_TOKEN } : {}),
})
console.log(`user directory on ${database.kind} at ${server.url}`)
const stop = async () => {
  await server.close()
  await database.close()
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
