/**
 * The canonical user store: Postgres, through any client with `query(sql, params)` (PGlite in
 * process, or a `pg` Pool for a real server). UUIDs come from the database.
 */
export interface Queryable {
  query<Row>(sql: string, params?: unknown[]): Promise<{ rows: Row[] }>
}

export interface StoredUser {
  readonly id: string
  readonly email: string
  readonly created: boolean
}

export interface EnsureInput {
  readonly email: string
  readonly emailVerified: boolean
  readonly issuer: string
  readonly sub: string
  readonly connection: string | null
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS users (
     id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
     email text NOT NULL UNIQUE CHECK (email = lower(email)),
     email_verified boolean NOT NULL DEFAULT false,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE IF NOT EXISTS identities (
     issuer text NOT NULL,
     sub text NOT NULL,
     user_id uuid NOT NULL REFERENCES users (id),
     connection text,
     first_seen timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (issuer, sub)
   )`,
]

export function createUserStore(db: Queryable) {
  return {
    async migrate(): Promise<void> {
      for (const statement of SCHEMA) await db.query(statement)
    },

    /**
     * Get-or-create in one statement, atomic under concurrency: INSERT … ON CONFLICT DO UPDATE
     * always returns the row (locking it), and `xmax = 0` tells whether this statement inserted
     * it. There is no read-then-write window for a second request to slip into.
     */
    async ensure(input: EnsureInput): Promise<StoredUser> {
      const { rows } = await db.query<StoredUser>(
        `INSERT INTO users (email, email_verified) VALUES ($1, $2)
         ON CONFLICT (email) DO UPDATE SET email_verified = users.email_verified OR EXCLUDED.email_verified
         RETURNING id, email, (xmax = 0) AS created`,
        [input.email, input.emailVerified],
      )
      const user = rows[0] as StoredUser
      // The (issuer, sub) link is recorded the first time it is seen, and never moved.
      await db.query(
        `INSERT INTO identities (issuer, sub, user_id, connection) VALUES ($1, $2, $3, $4)
         ON CONFLICT (issuer, sub) DO NOTHING`,
        [input.issuer, input.sub, user.id, input.connection],
      )
      return user
    },

    async lookup(email: string): Promise<{ id: string; email: string } | null> {
      const { rows } = await db.query<{ id: string; email: string }>(
        'SELECT id, email FROM users WHERE email = $1',
        [email],
      )
      return rows[0] ?? null
    },

    async identities(
      userId: string,
    ): Promise<{ issuer: string; sub: string; connection: string | null }[]> {
      const { rows } = await db.query<{ issuer: string; sub: string; connection: string | null }>(
        'SELECT issuer, sub, connection FROM identities WHERE user_id = $1 ORDER BY first_seen, sub',
        [userId],
      )
      return rows
    },

    async count(): Promise<number> {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM users')
      return rows[0]?.n ?? 0
    },
  }
}

export type UserStore = ReturnType<typeof createUserStore>
