import { describe, expect, it } from 'vitest';
import {
  applyFilterBank,
  hzToMel,
  melCentreFrequencies,
  melFilterBank,
  melToHz,
  sparseFilterBank,
} from '../src/index.js';

describe('mel scales', () => {
  it('match librosa: Slaney is linear below 1 kHz (15 mel) and logarithmic above; HTK is 2595 log10(1 + f / 700)', () => {
    expect(hzToMel(1000)).toBeCloseTo(15, 12);
    expect(hzToMel(500)).toBeCloseTo(7.5, 12);
    expect(hzToMel(8000)).toBeCloseTo(15 + Math.log(8) / (Math.log(6.4) / 27), 12);
    expect(hzToMel(8000)).toBeCloseTo(45.245640471924965, 10); // torchaudio _hz_to_mel(8000, 'slaney'), = librosa
    expect(hzToMel(1000, 'htk')).toBeCloseTo(999.9855371396243, 9); // torchaudio _hz_to_mel(1000, 'htk')
    for (const scale of ['slaney', 'htk'] as const) {
      for (const f of [0, 123.4, 999.9, 1000, 4321, 11025])
        expect(melToHz(hzToMel(f, scale), scale)).toBeCloseTo(f, 8);
    }
  });
});

describe('melFilterBank', () => {
  const o = { sampleRate: 16000, nFft: 512, nMels: 40, fMin: 0, fMax: 8000, melScale: 'slaney' as const };

  it('has Slaney area normalisation: each triangle integrates to about 1 over frequency', () => {
    const fb = melFilterBank(o);
    const nBins = 257;
    const df = 16000 / 512;
    for (let m = 5; m < 40; m++) {
      let area = 0;
      for (let k = 0; k < nBins; k++) area += fb[m * nBins + k] * df;
      expect(area).toBeGreaterThan(0.9);
      expect(area).toBeLessThan(1.1);
    }
  });

  it('peaks at the band centres, lowest band first', () => {
    const centres = melCentreFrequencies(o);
    expect(centres[0]).toBeLessThan(centres[39]);
    const fb = melFilterBank(o);
    for (const m of [3, 20, 39]) {
      const row = Array.from(fb.subarray(m * 257, (m + 1) * 257));
      const peak = row.indexOf(Math.max(...row));
      expect(Math.abs(peak * 31.25 - centres[m])).toBeLessThanOrEqual(31.25);
    }
  });

  it('sparse application equals the dense product', () => {
    const fb = melFilterBank({ ...o, melScale: 'htk', fMin: 100, fMax: 7000 });
    const sparse = sparseFilterBank(fb, 40, 257);
    expect(sparse.weights.length).toBeLessThan(3 * 257);
    const power = Float64Array.from({ length: 257 }, (_, k) => 1 + Math.sin(k));
    const out = new Float64Array(40);
    applyFilterBank(sparse, power, out);
    for (let m = 0; m < 40; m++) {
      let dense = 0;
      for (let k = 0; k < 257; k++) dense += fb[m * 257 + k] * power[k];
      expect(out[m]).toBeCloseTo(dense, 12);
    }
  });
});
