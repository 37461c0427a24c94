/** Writes the safetensors format (for tests that need crafted adapter files). */
export interface RawTensor {
  dtype: 'F32' | 'F16' | 'I64';
  shape: number[];
  values: number[];
}

export function safetensorsBytes(tensors: Record<string, RawTensor>): Buffer {
  const header: Record<string, unknown> = {};
  const parts: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const width = t.dtype === 'F16' ? 2 : t.dtype === 'F32' ? 4 : 8;
    const data = Buffer.alloc(t.values.length * width);
    t.values.forEach((v, i) => {
      if (t.dtype === 'F32') data.writeFloatLE(v, i * 4);
      else if (t.dtype === 'F16') data.writeUInt16LE(floatToHalf(v), i * 2);
      else data.writeBigInt64LE(BigInt(v), i * 8);
    });
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
