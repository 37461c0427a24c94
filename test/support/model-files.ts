/** Where tests find the shipped model and its parity fixture (overridable to test another export). */
export const MODEL_DIR = process.env.TEST_MODEL_DIR ?? 'models/default';
export const PARITY_DIR = process.env.TEST_PARITY_DIR ?? 'test/fixtures/onnx-parity';

/** An engine on the shipped model for tests: one thread, a small batch, room for the parity adapters. */
export const TEST_ENGINE_OPTIONS = {
  modelDir: MODEL_DIR,
  threads: 1,
  maxBatch: 8,
  adapterCacheBytes: 1 << 26,
  adapterMaxBytes: 1 << 24,
};
