import { z } from 'zod'
import { DEFAULTS } from '../defaults.js'
import { nonEmpty } from '../lib/schema-rules.js'
import type { TokenSources } from './extract.js'

/** Where `authenticate` reads the token. */
export interface TokenSourcesConfig {
  /** `Authorization: Bearer <token>`. Default true. */
  bearer?: boolean | undefined
  /** Headers carrying a bare token. Default `['x-user-token']`. */
  headers?: readonly string[] | undefined
}

export const tokenSourcesSchema = z
  .strictObject({
    bearer: z.boolean().optional(),
    headers: z
      .array(nonEmpty.regex(/^[A-Za-z0-9-]+$/, { error: 'expected a header name' }))
      .optional(),
  })
  .refine((sources) => sources.bearer !== false || (sources.headers?.length ?? 1) > 0, {
    error: 'at least one token source must be enabled',
  })

export function resolveTokenSources(sources: TokenSourcesConfig | undefined): TokenSources {
  return {
    bearer: sources?.bearer ?? DEFAULTS.tokenSources.bearer,
    headers: (sources?.headers ?? DEFAULTS.tokenSources.headers).map((name) => name.toLowerCase()),
  }
}
