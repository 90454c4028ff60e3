/**
 * Thrown by `createAuth` when the configuration is invalid. Its message names each bad field by its
 * path, e.g. `auth0.audience: expected a non-empty string`.
 */
export class AuthConfigError extends Error {
  override readonly name = 'AuthConfigError'
  /** One entry per problem: the field's dotted path and what is wrong with it. */
  readonly issues: readonly { path: string; message: string }[]

  constructor(issues: readonly { path: string; message: string }[]) {
    super(
      `canonical-auth: invalid configuration:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
    )
    this.issues = issues
  }
}
