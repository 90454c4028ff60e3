export {
  createTestIssuer,
  type SignOptions,
  type TestIssuer,
  type TestIssuerOptions,
} from './test-issuer.js'
export type { FaultMode } from './transport.js'
