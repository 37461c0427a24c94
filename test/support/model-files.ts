/** Where tests find the shipped model and its parity fixture (overridable to test another export). */
export const MODEL_DIR = process.env.TEST_MODEL_DIR ?? 'models/default';
export const PARITY_DIR = process.env.TEST_PARITY_DIR ?? 'test/fixtures/onnx-parity';
