/**
 * The sample-rate rule for WAVs that `hark fit`, `hark score` and `hark evaluate` read (the server applies the
 * same rule, `wavSampleRateProblem` of @hark/protocol, to uploads): a file below 8 kHz is refused, naming it,
 * before anything is fitted or scored.
 */
import { open } from 'node:fs/promises';
import { decodeWav, readWav } from '@hark/dsp';
import { wavSampleRateProblem } from '@hark/protocol';

/** Bytes read to learn a WAV's sample rate: its fmt chunk sits at the start (64 KiB covers long LIST chunks). */
const HEADER_BYTES = 65536;

/** The sample rate a WAV declares (its header only, else the whole file when the header is unusual). */
async function wavSampleRate(path: string): Promise<number> {
  const fh = await open(path, 'r');
  let head: Buffer;
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(HEADER_BYTES), 0, HEADER_BYTES, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  try {
    return decodeWav(head, path, { allowTruncated: true }).sampleRate;
  } catch {
    // Not decodable from its first bytes (e.g. the data chunk starts later): the full read says why.
    return (await readWav(path)).sampleRate;
  }
}

/** Throws `<path>: sample rate N Hz is below ...` for the first file below the rate hark needs. */
export async function checkWavRates(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const problem = wavSampleRateProblem(await wavSampleRate(path));
    if (problem) throw new Error(`${path}: ${problem}`);
  }
}
