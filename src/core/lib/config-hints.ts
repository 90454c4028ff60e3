// Hints for configuration errors: the key a misspelt one was probably meant to be, and what a
// minimal configuration looks like. Used only when a configuration is refused.

/** The smallest configuration that works, quoted when there is none at all. */
export const MINIMAL_CONFIG =
  "createAuth({ auth0: { domain: 'tenant.eu.auth0.com', audience: 'https://api.example.com' }, " +
  "directory: { baseUrl: 'https://users.internal' } })"

interface SchemaLike {
  readonly def: {
    readonly type: string
    readonly shape?: Record<string, SchemaLike>
    readonly innerType?: SchemaLike
    readonly in?: SchemaLike
    readonly out?: SchemaLike
    readonly element?: SchemaLike
    readonly options?: readonly SchemaLike[]
    readonly valueType?: SchemaLike
  }
}

// Keys that earlier versions had, with what took their place.
const RENAMED: Readonly<Record<string, string>> = {
  cacheMaxAgeMs: 'maxAgeMs',
  cacheTtlMs: 'maxAgeMs',
  ttlMs: 'maxAgeMs',
  staleTtlMs: 'staleIfErrorMs',
  negativeTtlMs: 'negativeMaxAgeMs',
}
const MOVED: Readonly<Record<string, string>> = {
  rateLimit:
    'the rate limit belongs to the discover endpoint: discoverHandler(auth, { rateLimit }), ' +
    'or the Fastify plugin option discover: { rateLimit }',
}

/** The message for a key no schema knows, naming the key it was probably meant to be. */
export function unknownKey(key: string, known: readonly string[]): string {
  const renamed = Object.hasOwn(RENAMED, key) ? RENAMED[key] : undefined
  if (renamed !== undefined && known.includes(renamed)) {
    return `unknown key '${key}'; it is now '${renamed}'`
  }
  if (Object.hasOwn(MOVED, key)) return `unknown key '${key}'; ${MOVED[key]}`
  const meant = closestKey(key, known)
  return `unknown key '${key}'${meant === undefined ? '' : `; did you mean '${meant}'?`}`
}

/**
 * The keys the object schema at `path` accepts, following optional, pipe, union, array and record
 * schemas.
 */
export function keysAt(schema: SchemaLike, path: readonly PropertyKey[]): string[] {
  const found = new Set<string>()
  const visit = (node: SchemaLike | undefined, rest: readonly PropertyKey[], depth: number) => {
    if (node === undefined || depth > 32) return
    const { def } = node
    switch (def.type) {
      case 'object':
        if (rest.length === 0) {
          for (const key of Object.keys(def.shape ?? {})) found.add(key)
          return
        }
        visit(def.shape?.[String(rest[0])], rest.slice(1), depth + 1)
        return
      case 'optional':
      case 'nullable':
      case 'default':
        visit(def.innerType, rest, depth + 1)
        return
      case 'pipe':
        visit(def.in, rest, depth + 1)
        visit(def.out, rest, depth + 1)
        return
      case 'union':
        for (const option of def.options ?? []) visit(option, rest, depth + 1)
        return
      case 'array':
        if (typeof rest[0] === 'number') visit(def.element, rest.slice(1), depth + 1)
        return
      case 'record':
        if (rest.length > 0) visit(def.valueType, rest.slice(1), depth + 1)
        return
      default:
        return
    }
  }
  visit(schema, path, 0)
  return [...found]
}

/** The candidate closest to `key`, if it is close enough to be a slip of the keyboard. */
export function closestKey(key: string, candidates: readonly string[]): string | undefined {
  const limit = key.length <= 4 ? 1 : key.length <= 8 ? 2 : 3
  let best: { candidate: string; distance: number } | undefined
  for (const candidate of candidates) {
    const [a, b] = [key.toLowerCase(), candidate.toLowerCase()]
    // Same letters in another case, or a unit left off (`ttl` for `ttlMs`): as good as one slip.
    const distance =
      a === b
        ? 0.5
        : (b.startsWith(a) || a.startsWith(b)) && Math.abs(a.length - b.length) <= 3
          ? 1
          : editDistance(key, candidate)
    if (distance <= limit && (best === undefined || distance < best.distance)) {
      best = { candidate, distance }
    }
  }
  return best?.candidate
}

/** Levenshtein distance, with a swap of two neighbours counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length)])
  for (let j = 0; j <= b.length; j++) (rows[0] as number[])[j] = j
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[]
    const previous = rows[i - 1] as number[]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row[j] = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      )
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] as number, ((rows[i - 2] as number[])[j - 2] as number) + 1)
      }
    }
  }
  return (rows[a.length] as number[])[b.length] as number
}
