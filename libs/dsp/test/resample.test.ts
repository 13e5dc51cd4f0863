import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ANALYSIS_PASSBAND, analysisResampler, Resampler, resample, toAnalysisRate } from '../src/index.js';
import { bitDifference, concat, splitBySizes } from './chunks.js';
import { sharedKernel, TABLE_CACHE_BYTES } from '../src/resample-kernel.js';

const tone = (f: number, rate: number, n: number, phase = 0) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * f * i) / rate + phase));

/** Steady-state part of an output: drops the filter's reach at both ends. */
const steady = (y: Float32Array, r: Resampler) => {
  const edge = Math.ceil((r.halfTaps * r.outRate) / r.inRate) + 2;
  return y.subarray(edge, y.length - edge);
};
const rms = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);

describe('Resampler: band limiting', () => {
  const down = [22050, 44100, 48000, 96000];

  it.each(down)(
    '%i Hz -> 16 kHz: a tone at 8.1 kHz (aliasing to 7.9 kHz) is attenuated by more than 60 dB',
    (rate) => {
      const r = new Resampler(rate, 16000);
      const y = resample(tone(8100, rate, rate), rate, 16000);
      const db = 20 * Math.log10(rms(steady(y, r)) / Math.SQRT1_2);
      expect(db).toBeLessThan(-60);
    },
  );

  it.each(down)('%i Hz -> 16 kHz: a 7 kHz tone passes within 0.1 dB, in phase (no delay)', (rate) => {
    const r = new Resampler(rate, 16000);
    const y = resample(tone(7000, rate, rate, 0.4), rate, 16000);
    const ideal = tone(7000, 16000, y.length, 0.4);
    const s = steady(y, r);
    expect(Math.abs(20 * Math.log10(rms(s) / Math.SQRT1_2))).toBeLessThan(0.1);
    const residual = steady(
      Float32Array.from(y, (v, i) => v - ideal[i]),
      r,
    );
    expect(Math.max(...residual.map(Math.abs))).toBeLessThan(2e-3);
  });

  it('8 kHz -> 16 kHz: a 3 kHz tone is reproduced and its 5 kHz image removed (> 60 dB)', () => {
    const r = new Resampler(8000, 16000);
    const y = resample(tone(3000, 8000, 8000, 1), 8000, 16000);
    const ideal = tone(3000, 16000, y.length, 1);
    const residual = steady(
      Float32Array.from(y, (v, i) => v - ideal[i]),
      r,
    );
    expect(20 * Math.log10(rms(residual) / Math.SQRT1_2)).toBeLessThan(-60);
  });

  it.each([8000, 11025, 22050, 32000, 44100, 48000, 96000, 16000])(
    '%i Hz -> 16 kHz gives ceil(n * 16000 / rate) samples',
    (rate) => {
      for (const n of [0, 1, 7, rate + 3])
        expect(resample(new Float32Array(n), rate, 16000).length).toBe(Math.ceil((n * 16000) / rate));
    },
  );

  it('equal rates pass samples through unchanged', () => {
    const x = tone(1234, 16000, 1000);
    expect(resample(x, 16000, 16000)).toEqual(x);
  });

  it('rejects bad rates and options with the value', () => {
    expect(() => new Resampler(0, 16000)).toThrow('inRate (0) must be a whole number of Hz > 0');
    expect(() => new Resampler(44100, 16000.5)).toThrow('outRate (16000.5) must be a whole number of Hz > 0');
    expect(() => new Resampler(44100, 16000, { passband: 1.2 })).toThrow('passband (1.2) must be in (0, 1)');
    expect(() => new Resampler(96001, 16000)).toThrow(
      'resampling 96001 Hz to 16000 Hz needs 16000 filter phases',
    );
    const r = new Resampler(48000, 16000);
    r.flush();
    expect(() => r.push(new Float32Array(3))).toThrow('push after flush(): call reset()');
  });
});

/** Least-squares fit of a * sin(w n) + b * cos(w n) to y, w = 2 pi f / rate: the tone's amplitude and phase. */
function fitTone(y: Float32Array, f: number, rate: number): { amplitude: number; phase: number } {
  let ss = 0,
    cc = 0,
    sc = 0,
    ys = 0,
    yc = 0;
  for (let n = 0; n < y.length; n++) {
    const s = Math.sin((2 * Math.PI * f * n) / rate);
    const c = Math.cos((2 * Math.PI * f * n) / rate);
    ss += s * s;
    cc += c * c;
    sc += s * c;
    ys += y[n] * s;
    yc += y[n] * c;
  }
  const det = ss * cc - sc * sc;
  const a = (ys * cc - yc * sc) / det;
  const b = (yc * ss - ys * sc) / det;
  return { amplitude: Math.hypot(a, b), phase: Math.atan2(b, a) };
}

/** Fits on the steady part of y, with the sample index counted from the start of y. */
function fitSteady(y: Float32Array, r: Resampler, f: number) {
  const edge = Math.ceil((r.halfTaps * r.outRate) / r.inRate) + 2;
  const fit = fitTone(y.subarray(edge, y.length - edge), f, r.outRate);
  return { amplitude: fit.amplitude, phase: fit.phase - (2 * Math.PI * f * edge) / r.outRate };
}

describe('Resampler: the documented response (pass band 0.9 F, stop band from F = min(in, out) / 2)', () => {
  const decimating = [22050, 32000, 44100, 48000, 96000];
  const db = (v: number) => 20 * Math.log10(v);

  it.each(decimating)(
    '%i Hz -> 16 kHz: every tone from 8 kHz to the input Nyquist loses >= 80 dB',
    (rate) => {
      const r = new Resampler(rate, 16000);
      // Dense just past the band edge, where a Kaiser design's largest side lobes are, then sparser.
      const tones = [
        ...Array.from({ length: 64 }, (_, k) => 8010 + 25 * k),
        ...[10000, 12000, 15000, 20000, 0.45 * rate, 0.499 * rate],
      ].filter((f) => f < rate / 2);
      for (const f of tones) {
        const y = resample(tone(f, rate, rate / 4, 0.3), rate, 16000);
        const level = db(rms(steady(y, r)) * Math.SQRT2); // an amplitude, at most 1e-4 of the input's 1
        expect(level, `${f} Hz`).toBeLessThanOrEqual(-80);
      }
    },
  );

  it.each(decimating)(
    '%i Hz -> 16 kHz: tones up to 7.2 kHz keep their amplitude (+-0.002 dB) and phase',
    (rate) => {
      const r = new Resampler(rate, 16000);
      for (const f of [50, 440, 1000, 3150, 5000, 6500, 7000, 7200]) {
        const y = resample(tone(f, rate, rate / 4, 0.4), rate, 16000);
        const { amplitude, phase } = fitSteady(y, r, f);
        expect(Math.abs(db(amplitude)), `${f} Hz`).toBeLessThan(0.002);
        const lag = Math.atan2(Math.sin(phase - 0.4), Math.cos(phase - 0.4)); // wrapped to (-pi, pi]
        expect(Math.abs(lag), `${f} Hz`).toBeLessThan(1e-4);
      }
    },
  );

  it('8 kHz -> 16 kHz: tones up to 3.6 kHz pass within 0.002 dB and their images (>= 4.4 kHz) lose >= 80 dB', () => {
    const r = new Resampler(8000, 16000);
    for (const f of [50, 1000, 3150, 3600]) {
      const y = resample(tone(f, 8000, 2000, 1), 8000, 16000);
      const { amplitude, phase } = fitSteady(y, r, f);
      expect(Math.abs(db(amplitude)), `${f} Hz`).toBeLessThan(0.002);
      const ideal = Float32Array.from(
        y,
        (_, n) => amplitude * Math.sin((2 * Math.PI * f * n) / 16000 + phase),
      );
      const image = steady(
        Float32Array.from(y, (v, n) => v - ideal[n]),
        r,
      );
      expect(db(rms(image) * Math.SQRT2), `${f} Hz`).toBeLessThanOrEqual(-80);
    }
  });
});

describe("toAnalysisRate: the pass band to a model's rate (0.95 F), the stop band still from F", () => {
  const db = (v: number) => 20 * Math.log10(v);

  it.each([44100, 48000])(
    '%i Hz -> 16 kHz: the top mel bins keep their tones up to 7.6 kHz, and nothing from 8 kHz up aliases',
    (rate) => {
      const r = new Resampler(rate, 16000, { passband: ANALYSIS_PASSBAND });
      // 7.4-7.6 kHz lie in the default design's transition band (7.2-8 kHz), under the top mel bins.
      for (const f of [440, 5000, 7200, 7400, 7600]) {
        const { amplitude } = fitSteady(toAnalysisRate(tone(f, rate, rate / 4, 0.4), rate, 16000), r, f);
        expect(Math.abs(db(amplitude)), `${f} Hz`).toBeLessThan(0.002);
      }
      for (const f of [...Array.from({ length: 16 }, (_, k) => 8010 + 50 * k), 12000, 0.499 * rate]) {
        const y = toAnalysisRate(tone(f, rate, rate / 4, 0.3), rate, 16000);
        expect(db(rms(steady(y, r)) * Math.SQRT2), `${f} Hz`).toBeLessThanOrEqual(-80);
      }
    },
  );

  it('falls back to the default design where the longer filter would need too large a table', () => {
    // Each design's taps and phases, its resampler disposed (its table given back).
    const design = (r: Resampler) => {
      const d = [r.halfTaps, r.up];
      r.dispose();
      return d;
    };
    expect(design(analysisResampler(48000, 16000))).toEqual(
      design(new Resampler(48000, 16000, { passband: ANALYSIS_PASSBAND })),
    );
    // 16000 filter phases: the 0.95 design's table is over the bound, the default's is not.
    expect(() => new Resampler(44101, 16000, { passband: ANALYSIS_PASSBAND })).toThrow(/filter phases/);
    expect(design(analysisResampler(44101, 16000))).toEqual(design(new Resampler(44101, 16000)));
    expect(() => analysisResampler(0, 16000)).toThrow('inRate (0) must be a whole number of Hz > 0');
  });

  it('leaves a signal at the analysis rate as it is', () => {
    const x = tone(7900, 16000, 1600);
    expect(toAnalysisRate(x, 16000, 16000)).toBe(x);
  });
});

describe('Resampler: streaming', () => {
  const rates = fc.constantFrom(
    [44100, 16000],
    [48000, 16000],
    [8000, 16000],
    [22050, 16000],
    [96000, 16000],
    [16000, 16000],
    [11025, 22050],
  );

  it('any chunking followed by flush() equals the batch result bitwise', () => {
    fc.assert(
      fc.property(
        rates,
        fc.integer({ min: 0, max: 6000 }),
        fc.array(fc.integer({ min: 1, max: 2500 }), { minLength: 1, maxLength: 40 }),
        fc.integer(),
        ([inRate, outRate], n, sizes, seed) => {
          const x = Float32Array.from(
            { length: n },
            (_, i) => Math.sin(i * 0.37 + seed) * Math.cos(i * 0.011),
          );
          const batch = resample(x, inRate, outRate);
          const r = new Resampler(inRate, outRate);
          const parts = splitBySizes(x, sizes).map((chunk) => r.push(chunk));
          expect(bitDifference(concat([...parts, r.flush()]), batch)).toBe('same');
        },
      ),
      { numRuns: 150 },
    );
  });

  it('interleaved streams of different designs, new designs created mid-stream, each equal their batch', () => {
    // Every design adds a filter table to the one shared kernel memory (which grows and moves the scratch
    // area): streams already running must not notice.
    const x = Float32Array.from({ length: 30000 }, (_, i) => Math.sin(i * 0.21) + 0.3 * Math.cos(i * 0.013));
    const designs: [number, number, { attenuationDb?: number; passband?: number }][] = [
      [48000, 16000, {}],
      [44100, 16000, { attenuationDb: 97 }],
      [8000, 16000, { passband: 0.8 }],
      [96000, 16000, { attenuationDb: 91, passband: 0.85 }],
      [22050, 16000, { attenuationDb: 83 }],
    ];
    const streams: { r: Resampler; parts: Float32Array[]; at: number }[] = [];
    for (let turn = 0; streams.length < designs.length || streams.some((s) => s.at < x.length); turn++) {
      if (turn % 3 === 0 && streams.length < designs.length) {
        const [inRate, outRate, options] = designs[streams.length];
        streams.push({ r: new Resampler(inRate, outRate, options), parts: [], at: 0 });
      }
      for (const s of streams) {
        const n = 500 + ((turn * 977) % 3000);
        s.parts.push(s.r.push(x.subarray(s.at, s.at + n)));
        s.at += n;
      }
    }
    streams.forEach((s, k) => {
      const [inRate, outRate, options] = designs[k];
      expect(bitDifference(concat([...s.parts, s.r.flush()]), resample(x, inRate, outRate, options))).toBe(
        'same',
      );
    });
  });

  it('takes any ArrayLike<number>: arrays and Float64Arrays give the Float32Array result', () => {
    const x = Array.from({ length: 5000 }, (_, i) => Math.sin(i * 0.05));
    const expected = resample(Float32Array.from(x), 44100, 16000);
    expect(resample(x, 44100, 16000)).toEqual(expected);
    expect(resample(Float64Array.from(x), 44100, 16000)).toEqual(expected);
  });

  it('emits output with a latency of halfTaps input samples, and reset() starts a new stream', () => {
    const r = new Resampler(48000, 16000);
    const x = tone(440, 48000, 4800);
    const first = r.push(x);
    expect(first.length).toBe(Math.ceil(((x.length - r.halfTaps) * 16000) / 48000));
    r.reset();
    const again = [...r.push(x), ...r.flush()];
    expect(Float32Array.from(again)).toEqual(resample(x, 48000, 16000));
  });
});

describe('Resampler filter tables', () => {
  it('are given back on dispose, so declaring ever new rates keeps memory bounded', () => {
    const kernel = sharedKernel();
    const before = kernel.tableBytes;
    // Rates with few common factors with 16 kHz: MBs of table each.
    for (let k = 0; k < 40; k++) {
      const r = new Resampler(44_101 + 2 * k, 16_000);
      r.push(new Float32Array(4410));
      r.dispose();
      r.dispose(); // twice is harmless
      expect(() => r.push(new Float32Array(10))).toThrow(/after dispose/);
    }
    expect(kernel.tableBytes).toBeLessThanOrEqual(Math.max(before, TABLE_CACHE_BYTES));
  });

  it('a table in use survives the others being dropped and moved, with the same output bit for bit', () => {
    const x = Float32Array.from(
      { length: 48_000 },
      (_, i) => Math.sin(i * 0.013) * 0.5 + ((i * 7919) % 97) / 400,
    );
    const whole = resample(x, 44_100, 16_000);
    const live = new Resampler(44_100, 16_000);
    const parts = [live.push(x.subarray(0, 20_000))];
    for (let k = 0; k < 30; k++) {
      const r = new Resampler(47_003 + 2 * k, 16_000);
      r.push(x.subarray(0, 1000));
      r.dispose();
    }
    parts.push(live.push(x.subarray(20_000)), live.flush());
    expect(bitDifference(concat(parts), whole)).toBe('same');
    live.dispose();
  });
});
