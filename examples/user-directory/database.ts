import type { Queryable } from './store.js'

/**
 * The database behind the example directory: a real PostgreSQL server when `DATABASE_URL` is set,
 * otherwise PGlite, Postgres compiled to WebAssembly, in this process (in memory, or in
 * `PGLITE_DATA_DIR` when set). Nothing to install either way beyond `npm ci`.
 */
export async function openDatabase(
  env: Record<string, string | undefined> = process.env,
): Promise<{ db: Queryable; kind: string; close(): Promise<void> }> {
  if (env.DATABASE_URL) {
    const { default: pg } = await import('pg')
    const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 10 })
    return {
      db: pool as unknown as Queryable,
      kind: 'PostgreSQL (DATABASE_URL)',
      close: () => pool.end(),
    }
  }
  const { PGlite } = await import('@electric-sql/pglite')
  const lite = env.PGLITE_DATA_DIR ? new PGlite(env.PGLITE_DATA_DIR) : new PGlite()
  await lite.waitReady
  return { db: lite as unknown as Queryable, kind: 'PGlite (embedded)', close: () => lite.close() }
}
