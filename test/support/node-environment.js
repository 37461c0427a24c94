/**
 * Jest's node environment gives each test file its own typed-array constructors; native addons such as
 * onnxruntime-node create theirs in the main realm, so `instanceof Float32Array` fails on their outputs. This
 * environment shares the main realm's typed arrays (and Buffer) with the tests.
 */
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'Buffer',
  'ArrayBuffer',
  'Uint8Array',
  'Int8Array',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class SharedTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = SharedTypedArraysEnvironment;
