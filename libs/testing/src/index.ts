export { type TestContext, TestEnvironmentError, createTestContext } from './test-context';
export { type WaitForOptions, WaitForTimeoutError, waitFor } from './wait-for';
export { freePorts } from './free-ports';
