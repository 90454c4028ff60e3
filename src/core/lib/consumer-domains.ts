/**
 * Mail domains anyone can sign up at. No dynamic discovery source (the Management API, WebFinger,
 * a resolver) may route them to an SSO connection: one misconfigured `domain_aliases` entry would
 * otherwise send every Gmail user to a company's identity provider. Add more with
 * `discovery.consumerDomains`.
 */
export const CONSUMER_DOMAINS: readonly string[] = [
  'aol.com',
  'fastmail.com',
  'gmail.com',
  'gmx.com',
  'gmx.de',
  'gmx.net',
  'googlemail.com',
  'hey.com',
  'hotmail.co.uk',
  'hotmail.com',
  'hotmail.fr',
  'icloud.com',
  'live.com',
  'mac.com',
  'mail.com',
  'mail.ru',
  'me.com',
  'msn.com',
  'outlook.com',
  'proton.me',
  'protonmail.com',
  'qq.com',
  '163.com',
  'web.de',
  'yahoo.co.uk',
  'yahoo.com',
  'yahoo.fr',
  'yandex.com',
  'yandex.ru',
  'ymail.com',
  'zoho.com',
]
