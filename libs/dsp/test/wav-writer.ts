/** Test helper: WAV files of every layout the decoder reads, written byte by byte from integer codes. */
export interface WavSpec {
  sampleRate?: number;
  /** Format code of the fmt chunk: 1 PCM, 3 float, anything else to test rejection. */
  format?: number;
  bits: number;
  /** Interleaved sample codes: integers as stored (8-bit unsigned), or floats for format 3. */
  interleaved: number[];
  channels: number;
  /** Write a WAVE_FORMAT_EXTENSIBLE fmt chunk whose subformat is `format`. */
  extensible?: boolean;
  /** Big-endian RIFX container. */
  rifx?: boolean;
  /** Override of the data chunk's declared size. */
  dataSize?: number;
  /** Override of the RIFF chunk's declared size. */
  riffSize?: number;
  /** A LIST chunk before the data chunk. */
  listChunk?: boolean;
}

export function makeWav(s: WavSpec): Uint8Array {
  const format = s.format ?? 1;
  const bytesPer = s.bits / 8;
  const fmtSize = s.extensible ? 40 : 16;
  const list = s.listChunk ? 8 + 12 : 0;
  const dataBytes = s.interleaved.length * bytesPer;
  const out = new Uint8Array(12 + 8 + fmtSize + list + 8 + dataBytes);
  const v = new DataView(out.buffer);
  const le = !s.rifx;
  const ascii = (at: number, text: string) => [...text].forEach((ch, i) => (out[at + i] = ch.charCodeAt(0)));
  ascii(0, s.rifx ? 'RIFX' : 'RIFF');
  v.setUint32(4, s.riffSize ?? out.length - 8, le);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, fmtSize, le);
  v.setUint16(20, s.extensible ? 0xfffe : format, le);
  v.setUint16(22, s.channels, le);
  v.setUint32(24, s.sampleRate ?? 16000, le);
  v.setUint32(28, (s.sampleRate ?? 16000) * s.channels * bytesPer, le);
  v.setUint16(32, s.channels * bytesPer, le);
  v.setUint16(34, s.bits, le);
  if (s.extensible) {
    v.setUint16(36, 22, le);
    v.setUint16(38, s.bits, le);
    v.setUint32(40, 0, le);
    v.setUint32(44, format, le); // GUID 0000000X-0000-0010-8000-00aa00389b71; the first field is the code
    v.setUint16(48, 0, le);
    v.setUint16(50, 0x10, le);
    out.set([0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71], 52);
  }
  let at = 20 + fmtSize;
  if (s.listChunk) {
    ascii(at, 'LIST');
    v.setUint32(at + 4, 12, le);
    ascii(at + 8, 'INFOISFT');
    v.setUint32(at + 16, 0, le);
    at += list;
  }
  ascii(at, 'data');
  v.setUint32(at + 4, s.dataSize ?? dataBytes, le);
  at += 8;
  for (const x of s.interleaved) {
    if (format === 3 && s.bits === 32) v.setFloat32(at, x, le);
    else if (format === 3) v.setFloat64(at, x, le);
    else if (s.bits === 8) v.setUint8(at, x);
    else if (s.bits === 16) v.setInt16(at, x, le);
    else if (s.bits === 32) v.setInt32(at, x, le);
    else if (s.bits === 24) {
      const u = x & 0xffffff;
      const b = [u & 0xff, (u >> 8) & 0xff, (u >> 16) & 0xff];
      out.set(le ? b : b.reverse(), at);
    }
    at += bytesPer;
  }
  return out;
}
