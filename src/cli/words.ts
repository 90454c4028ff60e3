// Small helpers for what the commands print: identities masked unless asked for, durations and
// instants in plain words.

/**
 * A token, as much of it as may be printed: its length only. Its header and payload are printed
 * claim by claim where they help; the signature never.
 */
export function maskToken(token: string): string {
  return `a token of ${token.length} characters`
}

/**
 * A sub, masked unless `show`: the part before the last `|` (the connection's strategy and name,
 * which explain which login made it) and the first four characters of the user's id.
 */
export function maskSub(sub: string, show: boolean): string {
  if (show) return sub
  const bar = sub.lastIndexOf('|')
  const [prefix, id] = bar === -1 ? ['', sub] : [sub.slice(0, bar + 1), sub.slice(bar + 1)]
  return id.length <= 4 ? `${prefix}****` : `${prefix}${id.slice(0, 4)}…`
}

/** An email, masked unless `show`: the first character of the local part, and the domain. */
export function maskEmail(email: string, show: boolean): string {
  if (show) return email
  const at = email.lastIndexOf('@')
  if (at <= 0) return '***'
  return `${email[0]}***${email.slice(at)}`
}

/** A duration in seconds as words: `45 s`, `3 min 12 s`, `2 h 5 min`, `3 d 4 h`. */
export function duration(seconds: number): string {
  const s = Math.round(Math.abs(seconds))
  if (s < 60) return `${s} s`
  if (s < 3_600) return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`
  if (s < 86_400) {
    const minutes = Math.floor((s % 3_600) / 60)
    return `${Math.floor(s / 3_600)} h${minutes === 0 ? '' : ` ${minutes} min`}`
  }
  const hours = Math.floor((s % 86_400) / 3_600)
  return `${Math.floor(s / 86_400)} d${hours === 0 ? '' : ` ${hours} h`}`
}

/** A NumericDate (seconds since the epoch) as an ISO instant, or `undefined` if it is none. */
export function instant(seconds: unknown): string | undefined {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return undefined
  const date = new Date(seconds * 1000)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace('.000Z', 'Z')
}

/** A list for a sentence: `a`, `a and b`, `a, b and c`; `none` when empty. */
export function list(items: readonly string[]): string {
  if (items.length === 0) return 'none'
  if (items.length === 1) return items[0] as string
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`
}

/** A count and its noun: `1 key`, `3 keys`. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

/** A byte size as the limits are set: `1 MiB`, `256 KiB`. */
export function size(bytes: number): string {
  return bytes % 1_048_576 === 0 ? `${bytes / 1_048_576} MiB` : `${bytes / 1024} KiB`
}
