/**
 * Reading and writing the safetensors format: an 8-byte little-endian header length, a JSON header naming each tensor's
 * dtype, shape and byte range, then the raw little-endian data. Floating-point tensors come back as float32.
 */

export interface FloatTensor {
  shape: number[];
  data: Float32Array;
}

export class SafetensorsFormatError extends Error {}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;
const BYTES_PER_ELEMENT: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export function readSafetensors(buffer: Buffer): Map<string, FloatTensor> {
  if (buffer.length < 8) throw new SafetensorsFormatError('file is shorter than its 8-byte header length');
  const headerLength = Number(buffer.readBigUInt64LE(0));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > buffer.length) {
    throw new SafetensorsFormatError(`header length ${headerLength} does not fit the file`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buffer.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new SafetensorsFormatError('header is not valid JSON');
  }
  const body = buffer.subarray(8 + headerLength);
  const tensors = new Map<string, FloatTensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const entry = raw as HeaderEntry;
    const width = BYTES_PER_ELEMENT[entry?.dtype];
    if (!width)
      throw new SafetensorsFormatError(`${name}: dtype ${String(entry?.dtype)} is not a float type`);
    if (!Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new SafetensorsFormatError(`${name}: invalid shape`);
    }
    const [begin, end] = entry.data_offsets ?? [];
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (
      !Number.isInteger(begin) ||
      !Number.isInteger(end) ||
      end - begin !== count * width ||
      end > body.length
    ) {
      throw new SafetensorsFormatError(
        `${name}: byte range does not match shape ${JSON.stringify(entry.shape)}`,
      );
    }
    tensors.set(name, { shape: entry.shape, data: toFloat32(body.subarray(begin, end), entry.dtype, count) });
  }
  return tensors;
}

function toFloat32(bytes: Buffer, dtype: string, count: number): Float32Array {
  const out = new Float32Array(count);
  if (dtype === 'F32') {
    for (let i = 0; i < count; i++) out[i] = bytes.readFloatLE(i * 4);
    return out;
  }
  const scratch = new DataView(new ArrayBuffer(4));
  for (let i = 0; i < count; i++) {
    const half = bytes.readUInt16LE(i * 2);
    if (dtype === 'BF16') {
      scratch.setUint32(0, half << 16);
      out[i] = scratch.getFloat32(0);
    } else {
      out[i] = halfToFloat(half);
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

export interface RawTensor {
  dtype: 'F32' | 'F16' | 'I64';
  shape: number[];
  values: number[] | Float32Array;
}

/**
 * Writes the safetensors format, tensors in the order given (adapters sealgate builds, and crafted test files).
 * F32 values are rounded to float32 as written; F16 rounds to nearest (enough for values of moderate size).
 */
export function safetensorsBytes(tensors: Record<string, RawTensor>): Buffer {
  const header: Record<string, unknown> = {};
  const parts: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const width = t.dtype === 'F16' ? 2 : t.dtype === 'F32' ? 4 : 8;
    const data = Buffer.alloc(t.values.length * width);
    for (let i = 0; i < t.values.length; i++) {
      const v = t.values[i];
      if (t.dtype === 'F32') data.writeFloatLE(v, i * 4);
      else if (t.dtype === 'F16') data.writeUInt16LE(floatToHalf(v), i * 2);
      else data.writeBigInt64LE(BigInt(v), i * 8);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + data.length] };
    parts.push(data);
    offset += data.length;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, ...parts]);
}

/** float32 -> IEEE half (round to nearest; enough for test values of moderate size). */
function floatToHalf(v: number): number {
  const f32 = new Float32Array([v]);
  const bits = new Uint32Array(f32.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  const mant = bits & 0x7fffff;
  if (exp <= 0) return sign;
  if (exp >= 0x1f) return sign | 0x7c00;
  return sign | (exp << 10) | Math.round(mant / 8192);
}
