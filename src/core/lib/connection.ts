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
  const first = subject.indexOf('|')
  const second = first < 0 ? -1 : subject.indexOf('|', first + 1)
  if (second < 0 || !ENTERPRISE_STRATEGIES.has(subject.slice(0, first))) return undefined
  return second === first + 1 ? undefined : subject.slice(first + 1, second)
}
