/**
 * Auth0 strategies of enterprise connections: the organisation's own identity provider (SAML,
 * Azure AD, ADFS, OpenID Connect, Okta, PingFederate, AD/LDAP, Google Workspace …), whose users'
 * email domains it administers. Social (`google-oauth2`, `oauth2`, `github` …), database (`auth0`)
 * and passwordless (`email`, `sms`) strategies are not among them: their users choose their emails.
 */
export const ENTERPRISE_STRATEGIES: ReadonlySet<string> = new Set([
  'ad',
  'adfs',
  'auth0-adldap',
  'google-apps',
  'office365',
  'oidc',
  'okta',
  'pingfederate',
  'samlp',
  'sharepoint',
  'waad',
])

/**
 * The connection an enterprise sub names: `samlp|acme-waad|x1` → `acme-waad`. A sub of any other
 * strategy (`oauth2|acme-waad|x`, `auth0|acme-waad|x`) or of two parts (`waad|abc123`) names none,
 * so a social or database account can never pass for an enterprise connection.
 */
export function connectionFromSubject(subject: string): string | undefined {
  const parts = subject.split('|')
  if (parts.length < 3 || !ENTERPRISE_STRATEGIES.has(parts[0] as string)) return undefined
  return parts[1] === '' ? undefined : parts[1]
}
