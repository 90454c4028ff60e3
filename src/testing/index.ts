export {
  createTestDirectory,
  type TestDirectory,
  type TestDirectoryOptions,
  type TestDirectoryUser,
} from './test-directory.js'
export {
  createTestIssuer,
  type SignOptions,
  type TestIssuer,
  type TestIssuerOptions,
} from './test-issuer.js'
export type { FakeRequest, FaultLog, FaultMode, MswHandler } from './transport.js'
