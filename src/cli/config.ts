// The configuration a command checks: a config module (`--config`), whose default export is the
// `createAuth` configuration or a function returning it, or one tenant given by flags.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { AuthConfig } from '../core/config/config.js'

/** A mistake in how a command was called: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** The flags that say which configuration to use. */
export interface ConfigFlags {
  readonly config?: string | undefined
  readonly domain?: string | undefined
  readonly issuer?: string | undefined
  readonly 'jwks-uri'?: string | undefined
  readonly audience?: readonly string[] | undefined
}

/** The configuration the flags name, or `undefined` when they name none. */
export async function loadConfig(flags: ConfigFlags, cwd: string): Promise<AuthConfig | undefined> {
  const tenantFlags = [flags.domain, flags.issuer, flags['jwks-uri'], flags.audience?.[0]]
  const anyTenantFlag = tenantFlags.some((flag) => flag !== undefined)
  if (flags.config !== undefined) {
    if (anyTenantFlag) {
      throw new UsageError(
        'give either --config or the tenant flags (--domain, --issuer, --jwks-uri, --audience), not both',
      )
    }
    return configModule(flags.config, cwd)
  }
  if (!anyTenantFlag) return undefined
  if (flags.domain === undefined && flags.issuer === undefined) {
    throw new UsageError('--domain or --issuer is needed to know which tenant to check against')
  }
  const audience = flags.audience ?? []
  if (audience.length === 0)
    throw new UsageError('--audience is needed: the API identifier tokens must be for')
  return {
    auth0: {
      ...(flags.domain === undefined ? {} : { domain: flags.domain }),
      ...(flags.issuer === undefined ? {} : { issuer: flags.issuer }),
      ...(flags['jwks-uri'] === undefined ? {} : { jwksUri: flags['jwks-uri'] }),
      audience: audience.length === 1 ? (audience[0] as string) : audience,
    },
  }
}

async function configModule(path: string, cwd: string): Promise<AuthConfig> {
  const file = resolve(cwd, path)
  if (!existsSync(file)) throw new UsageError(`--config ${path}: not found`)
  let loaded: { default?: unknown }
  try {
    loaded = (await import(pathToFileURL(file).href)) as { default?: unknown }
  } catch (error) {
    throw new UsageError(`--config ${path}: failed to load (${loadFailure(error)})`)
  }
  const exported = loaded.default
  if (exported === undefined) {
    throw new UsageError(`--config ${path}: no default export (export default { auth0: { … } })`)
  }
  let config: unknown
  try {
    config = typeof exported === 'function' ? await (exported as () => unknown)() : exported
  } catch (error) {
    throw new UsageError(`--config ${path}: its default export threw (${kindOf(error)})`)
  }
  if (typeof config !== 'object' || config === null) {
    throw new UsageError(`--config ${path}: the default export is not a configuration object`)
  }
  return config as AuthConfig
}

/**
 * Why a module did not load: a syntax error or a missing module says where (its message names
 * code and files, not values); anything else thrown while it ran, its kind only ({@link kindOf}).
 */
function loadFailure(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  if (error instanceof SyntaxError) return `SyntaxError: ${error.message}`
  if (code === 'ERR_MODULE_NOT_FOUND' && error instanceof Error) return error.message
  if (typeof code === 'string' && code.startsWith('ERR_IMPORT_')) {
    return 'a configuration module is JavaScript (.mjs or .js) with a default export, not JSON'
  }
  return `${kindOf(error)}; run it with node to see why`
}

/**
 * What went wrong, without the message: a module's error may quote what it failed on (a
 * connection string with its password). Run the module with node to see it whole.
 */
function kindOf(error: unknown): string {
  if (!(error instanceof Error)) return typeof error
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? `${error.name} ${code}` : error.name
}
