#!/usr/bin/python3
"""Generates the resampler's golden fixtures (run once; the output is committed).

    /usr/bin/python3 libs/dsp/scripts/make-resample-golden.py

Uses Debian's python3 with numpy and scipy (`apt-get install -y python3-scipy`). For each input rate it
designs the same filter as libs/dsp/src/resample.ts, independently, in float64: a Kaiser-windowed sinc with
the pass band ending at 0.9 and the stop band starting at 1.0 of the lower Nyquist frequency, beta and
length by Kaiser's formulas for 80 + 0.5 dB, half-length rounded up to a multiple of 8 taps. It then runs
`scipy.signal.resample_poly(x, up, down, window=h / up)` (scipy scales the window by up again) on a test
signal, in float64, and measures the filter's response on an 8M-point FFT.

Writes, under libs/dsp/test/fixtures/resample/:
  - golden.json          one entry per case: rates, halfTaps, measured stop band / ripple, file names
  - <rate>.in.f32        input: 0.3 s of a linear chirp 20 Hz -> 0.49 rate plus white noise, float32 LE
  - <rate>.out.f32       scipy's output at 16 kHz, float32 LE
"""
import json
from math import ceil, gcd, pi
from pathlib import Path

import numpy as np
import scipy
import scipy.signal

OUT = Path(__file__).resolve().parent.parent / 'test' / 'fixtures' / 'resample'
ATTENUATION, MARGIN, PASSBAND, TAP_MULTIPLE = 80.0, 0.5, 0.9, 16
OUT_RATE = 16000
IN_RATES = [8000, 11025, 22050, 44100, 48000, 96000]


def kaiser_beta(a: float) -> float:
    if a > 50:
        return 0.1102 * (a - 8.7)
    return 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21) if a >= 21 else 0.0


def design(rate_in: int, rate_out: int):
    """The filter at the upsampled rate up * rate_in, odd length, centred: h[k] = h(k / up)."""
    g = gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    stop = min(rate_in, rate_out) / 2 / rate_in  # cycles per input sample
    transition = stop * (1 - PASSBAND)
    cutoff = stop - transition / 2
    a = ATTENUATION + MARGIN
    length = (a - 7.95) / (2.285 * 2 * pi * transition) + 1
    half = TAP_MULTIPLE // 2
    half_taps = ceil(length / 2 / half) * half
    t = np.arange(-half_taps * up + 1, half_taps * up) / up
    window = np.i0(kaiser_beta(a) * np.sqrt(1 - (t / half_taps) ** 2)) / np.i0(kaiser_beta(a))
    return up, down, half_taps, 2 * cutoff * np.sinc(2 * cutoff * t) * window


def response(h: np.ndarray, up: int, rate_in: int, rate_out: int):
    """Smallest stop-band attenuation (dB, above the lower Nyquist) and pass-band gain range (dB)."""
    n = 1 << 23
    gain = np.abs(np.fft.rfft(h, n)) / up
    f = np.arange(gain.size) * (up * rate_in) / n
    nyquist = min(rate_in, rate_out) / 2
    stop_db = -20 * np.log10(gain[f >= nyquist].max())
    band = 20 * np.log10(gain[f <= PASSBAND * nyquist])
    return float(stop_db), float(band.min()), float(band.max())


def signal(rate: int) -> np.ndarray:
    n = int(0.3 * rate)
    t = np.arange(n) / rate
    f0, f1 = 20.0, 0.49 * rate
    chirp = 0.5 * np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * t[-1])))
    return (chirp + 0.1 * np.random.default_rng(rate).standard_normal(n)).astype(np.float32)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    cases = []
    for rate in IN_RATES:
        up, down, half_taps, h = design(rate, OUT_RATE)
        x = signal(rate)
        y = scipy.signal.resample_poly(x.astype(np.float64), up, down, window=h / up)
        stop_db, pass_min, pass_max = response(h, up, rate, OUT_RATE)
        x.tofile(OUT / f'{rate}.in.f32')
        y.astype(np.float32).tofile(OUT / f'{rate}.out.f32')
        cases.append(dict(inRate=rate, outRate=OUT_RATE, up=up, down=down, halfTaps=half_taps,
                          stopBandDb=round(stop_db, 3), passBandDb=[round(pass_min, 5), round(pass_max, 5)],
                          input=f'{rate}.in.f32', output=f'{rate}.out.f32', outputLength=int(y.size)))
        print(f'{rate} -> {OUT_RATE}: halfTaps {half_taps}, stop band {stop_db:.2f} dB, '
              f'pass band {pass_min:+.4f} .. {pass_max:+.4f} dB, {y.size} samples')
    (OUT / 'golden.json').write_text(json.dumps(dict(scipy=scipy.__version__, numpy=np.__version__,
                                                     cases=cases), indent=2) + '\n')


if __name__ == '__main__':
    main()
