export {
  type DirectoryConformanceOptions,
  type DirectoryConformanceReport,
  type DirectoryConformanceResult,
  runDirectoryConformance,
} from './directory-conformance.js'
export {
  createDpopKeyPair,
  createDpopProof,
  type DpopKeyPair,
  type DpopProofOptions,
  dpopThumbprint,
} from './dpop.js'
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
export {
  FAULT_MODES,
  type FakeRequest,
  type FaultLog,
  type FaultMode,
  type MswHandler,
} from './transport.js'
