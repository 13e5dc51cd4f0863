#!/usr/bin/env node
// Makes a `hark synth` stream loop without a false alarm, for scripts/demo.sh:
//   demo-sound.mjs IN_DIR OUT_PREFIX OFFSET_S
// IN_DIR/stream.wav has an anomaly at 0 s: playing it in a loop, its seam (last sample -> first sample, a click)
// falls at the start of that anomaly, which alerts anyway. The stream is rotated so that this seam, and the
// anomaly, come OFFSET_S seconds after the start (a different offset per sensor staggers their anomalies).
// Writes OUT_PREFIX.wav and OUT_PREFIX.json (the events, moved with the sound) and prints the event times.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, outPrefix, offsetArg] = process.argv.slice(2);
const offset = Number(offsetArg);
if (!dir || !outPrefix || !(offset >= 0)) {
  console.error('usage: demo-sound.mjs IN_DIR OUT_PREFIX OFFSET_S');
  process.exit(2);
}

const wav = readFileSync(join(dir, 'stream.wav'));
const { sampleRate, blockAlign, dataStart, dataBytes } = parseWav(wav);
const frames = dataBytes / blockAlign;
const seconds = frames / sampleRate;
const shift = Math.round(((((seconds - offset) % seconds) + seconds) % seconds) * sampleRate) % frames;

const out = Buffer.from(wav);
const data = wav.subarray(dataStart, dataStart + dataBytes);
data.subarray(shift * blockAlign).copy(out, dataStart);
data.subarray(0, shift * blockAlign).copy(out, dataStart + dataBytes - shift * blockAlign);
writeFileSync(`${outPrefix}.wav`, out);

const moved = (t) => (((t - shift / sampleRate) % seconds) + seconds) % seconds;
const truth = JSON.parse(readFileSync(join(dir, 'stream.json'), 'utf8'));
truth.events = truth.events
  .map((e) => ({ ...e, onset: round(moved(e.onset)), offset: round(moved(e.onset) + e.offset - e.onset) }))
  .sort((a, b) => a.onset - b.onset);
writeFileSync(`${outPrefix}.json`, `${JSON.stringify(truth, null, 1)}\n`);
console.log(truth.events.map((e) => `${e.label} at ${e.onset} s`).join(', '));

function round(v) {
  return Math.round(v * 1000) / 1000;
}

/** The fields of a PCM WAV file that rotating it needs. */
function parseWav(buf) {
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE')
    throw new Error(`${dir}/stream.wav is not a WAV file`);
  let fmt = null;
  for (let p = 12; p + 8 <= buf.length;) {
    const id = buf.toString('ascii', p, p + 4);
    const size = buf.readUInt32LE(p + 4);
    if (id === 'fmt ') fmt = { sampleRate: buf.readUInt32LE(p + 12), blockAlign: buf.readUInt16LE(p + 20) };
    if (id === 'data') {
      if (!fmt) throw new Error(`${dir}/stream.wav: no fmt chunk before its data`);
      const dataBytes = Math.min(size, buf.length - p - 8);
      return { ...fmt, dataStart: p + 8, dataBytes: dataBytes - (dataBytes % fmt.blockAlign) };
    }
    p += 8 + size + (size % 2);
  }
  throw new Error(`${dir}/stream.wav has no data chunk`);
}
