import { Random } from './random.js';

/**
 * Synthetic machine sound for demos and for test fixtures the project owns (no licence questions).
 * A machine is a rotating part (a fundamental with decaying harmonics, slow speed wander), a gear mesh tone
 * with sidebands, structural resonances excited by broadband noise, and a noise floor. Anomalies are the
 * faults operators listen for; each comes back as a ground-truth time-frequency box in the format of
 * DATASET.md (`onset`/`offset` in seconds, `lowHz`/`highHz` in Hz).
 */
export interface MachineVoice {
  /** Rotation frequency in Hz. */
  rotationHz: number;
  /** Number of rotation harmonics. */
  harmonics: number;
  /** Amplitude ratio between successive harmonics (0..1). */
  harmonicDecay: number;
  /** Gear mesh order (teeth): a tone at `meshOrder * rotationHz` with rotation sidebands; 0 for none. */
  meshOrder: number;
  /** Resonances excited by the broadband noise: centre Hz, quality factor, linear gain. */
  resonances: readonly { hz: number; q: number; gain: number }[];
  /** Broadband noise level relative to the fundamental's amplitude. */
  noise: number;
}

/** A few machines with distinct spectra, used by `make demo` and the end-to-end tests. */
export const MACHINE_VOICES = {
  pump: {
    rotationHz: 24.5,
    harmonics: 40,
    harmonicDecay: 0.9,
    meshOrder: 0,
    resonances: [
      { hz: 620, q: 6, gain: 0.5 },
      { hz: 1800, q: 8, gain: 0.25 },
    ],
    noise: 0.08,
  },
  fan: {
    rotationHz: 49,
    harmonics: 12,
    harmonicDecay: 0.75,
    meshOrder: 7,
    resonances: [{ hz: 340, q: 3, gain: 0.6 }],
    noise: 0.2,
  },
  gearbox: {
    rotationHz: 16.7,
    harmonics: 30,
    harmonicDecay: 0.85,
    meshOrder: 43,
    resonances: [
      { hz: 1100, q: 10, gain: 0.3 },
      { hz: 2900, q: 12, gain: 0.15 },
    ],
    noise: 0.05,
  },
} as const satisfies Record<string, MachineVoice>;

export type MachineName = keyof typeof MACHINE_VOICES;
export type AnomalyKind = 'whine' | 'impacts' | 'rub' | 'speed';
export const ANOMALY_KINDS: readonly AnomalyKind[] = ['whine', 'impacts', 'rub', 'speed'];

/** An anomaly to inject: kind, start and length in seconds, and the level relative to the machine (dB). */
export interface AnomalySpec {
  kind: AnomalyKind;
  onset: number;
  duration: number;
  levelDb?: number;
}

/** A ground-truth event, as in DATASET.md: one anomalous time-frequency box. */
export interface GroundTruthEvent {
  /** Start, in seconds from the start of the file. */
  onset: number;
  /** End, in seconds, >= onset. */
  offset: number;
  /** Lower band edge, in Hz. */
  lowHz: number;
  /** Upper band edge, in Hz, >= lowHz. */
  highHz: number;
  /** What happened (e.g. `door_knock`); '' when absent. */
  label: string;
}

export interface SynthOptions {
  voice: MachineVoice;
  seconds: number;
  sampleRate?: number;
  seed?: number;
  /** Relative deviation of the rotation speed for this recording (normal units vary by about ±1 %). */
  speedOffset?: number;
  /** Linear gain of the whole recording. */
  gain?: number;
  anomalies?: readonly AnomalySpec[];
}

/** Synthesises `seconds` of a machine at `sampleRate` (default 16 kHz); returns samples in [-1, 1] and events. */
export function synthMachine(opts: SynthOptions): { samples: Float32Array; events: GroundTruthEvent[] } {
  const sr = opts.sampleRate ?? 16000;
  const n = Math.round(opts.seconds * sr);
  const rng = new Random(opts.seed ?? 1);
  const v = opts.voice;
  const out = new Float32Array(n);
  const speedAt = speedProfile(opts, sr, rng);
  const resonators = v.resonances.map((r) => new Resonator(r.hz, r.q, sr));
  const nyquist = sr / 2;
  let phase = 0;
  let wander = 0;
  for (let i = 0; i < n; i++) {
    // Slow random wander of the speed (Ornstein-Uhlenbeck, ~0.2 % deviation).
    wander += (-wander * 2) / sr + (rng.gaussian() * 0.002 * Math.sqrt(4)) / Math.sqrt(sr);
    const f0 = v.rotationHz * (1 + wander + speedAt(i));
    phase += (2 * Math.PI * f0) / sr;
    if (phase > 2 * Math.PI * 1e4) phase -= 2 * Math.PI * 1e4;
    let x = 0;
    let amp = 1;
    for (let h = 1; h <= v.harmonics && h * f0 < nyquist; h++, amp *= v.harmonicDecay)
      x += amp * Math.sin(h * phase);
    if (v.meshOrder > 0 && v.meshOrder * f0 < nyquist) {
      const mesh = Math.sin(v.meshOrder * phase);
      x += 0.5 * mesh * (1 + 0.3 * Math.sin(phase));
    }
    const white = rng.gaussian();
    let noise = white * v.noise;
    for (let r = 0; r < resonators.length; r++) noise += resonators[r].step(white) * v.resonances[r].gain;
    out[i] = x + noise;
  }
  normalise(out, 0.25);
  const events = (opts.anomalies ?? []).map((a) => addAnomaly(out, a, opts, sr, rng));
  const gain = opts.gain ?? 1;
  for (let i = 0; i < n; i++) out[i] = Math.max(-1, Math.min(1, out[i] * gain));
  return { samples: out, events };
}

function speedProfile(opts: SynthOptions, sr: number, _rng: Random): (i: number) => number {
  const base = opts.speedOffset ?? 0;
  const shifts = (opts.anomalies ?? []).filter((a) => a.kind === 'speed');
  return (i) => {
    const t = i / sr;
    let s = base;
    for (const a of shifts) s += 0.06 * ramp(t, a.onset, a.onset + a.duration, 0.1);
    return s;
  };
}

/** 0 outside [t0, t1], 1 inside, with linear ramps of `edge` seconds. */
function ramp(t: number, t0: number, t1: number, edge: number): number {
  if (t < t0 || t > t1) return 0;
  return Math.min(1, (t - t0) / edge, (t1 - t) / edge);
}

function addAnomaly(
  out: Float32Array,
  a: AnomalySpec,
  opts: SynthOptions,
  sr: number,
  rng: Random,
): GroundTruthEvent {
  const v = opts.voice;
  const level = 0.25 * 10 ** ((a.levelDb ?? -6) / 20);
  const i0 = Math.max(0, Math.round(a.onset * sr));
  const i1 = Math.min(out.length, Math.round((a.onset + a.duration) * sr));
  const offset = a.onset + a.duration;
  const nyquist = sr / 2;
  switch (a.kind) {
    case 'whine': {
      const f = rng.uniform(0.3, 0.55) * nyquist;
      let phase = 0;
      for (let i = i0; i < i1; i++) {
        const t = i / sr;
        // Instantaneous frequency f ± 0.2 % at 5 Hz (a slight vibrato, as a real whine has).
        phase += (2 * Math.PI * f * (1 + 0.002 * Math.sin(2 * Math.PI * 5 * t))) / sr;
        out[i] += level * ramp(t, a.onset, offset, 0.05) * Math.sin(phase);
      }
      return { onset: a.onset, offset, lowHz: f * 0.97, highHz: f * 1.03, label: 'whine' };
    }
    case 'impacts': {
      // Bearing-like impacts: a decaying resonance at `fr` struck `rate` times a second.
      const fr = rng.uniform(0.35, 0.6) * nyquist;
      const rate = rng.uniform(7, 13);
      const decay = 0.004 * sr;
      for (let strike = i0; strike < i1; strike += Math.round(sr / rate)) {
        const a0 = level * 3 * (0.7 + 0.3 * rng.next());
        for (let j = 0; j < 6 * decay && strike + j < out.length; j++) {
          out[strike + j] += a0 * Math.exp(-j / decay) * Math.sin((2 * Math.PI * fr * j) / sr);
        }
      }
      return { onset: a.onset, offset, lowHz: fr * 0.75, highHz: fr * 1.25, label: 'impacts' };
    }
    case 'rub': {
      const lo = rng.uniform(0.12, 0.25) * nyquist;
      const hi = lo * 2;
      const band = new Resonator(Math.sqrt(lo * hi), Math.sqrt(lo * hi) / (hi - lo), sr);
      for (let i = i0; i < i1; i++) {
        const t = i / sr;
        out[i] += level * 2 * ramp(t, a.onset, offset, 0.05) * band.step(rng.gaussian());
      }
      return { onset: a.onset, offset, lowHz: lo, highHz: hi, label: 'rub' };
    }
    case 'speed': {
      const top = Math.min(nyquist, v.rotationHz * 1.1 * Math.max(v.harmonics, v.meshOrder + 2));
      return { onset: a.onset, offset, lowHz: v.rotationHz * 0.9, highHz: top, label: 'speed' };
    }
  }
}

function normalise(x: Float32Array, rms: number): void {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  const k = s > 0 ? rms / Math.sqrt(s / x.length) : 0;
  for (let i = 0; i < x.length; i++) x[i] *= k;
}

/** A two-pole band-pass resonator (RBJ biquad, constant 0 dB peak gain). */
class Resonator {
  private b0: number;
  private a1: number;
  private a2: number;
  private x1 = 0;
  private x2 = 0;
  private y1 = 0;
  private y2 = 0;

  constructor(hz: number, q: number, sr: number) {
    const w = (2 * Math.PI * hz) / sr;
    const alpha = Math.sin(w) / (2 * q);
    const a0 = 1 + alpha;
    this.b0 = alpha / a0;
    this.a1 = (-2 * Math.cos(w)) / a0;
    this.a2 = (1 - alpha) / a0;
  }

  step(x: number): number {
    const y = this.b0 * (x - this.x2) - this.a1 * this.y1 - this.a2 * this.y2;
    this.x2 = this.x1;
    this.x1 = x;
    this.y2 = this.y1;
    this.y1 = y;
    return y;
  }
}
