#!/usr/bin/python3
"""Times scipy.signal.resample_poly on 60 s of audio, one thread: the reference figure for `hark bench dsp`.

    /usr/bin/python3 libs/dsp/scripts/time-scipy-resample.py

For 48 kHz and 44.1 kHz -> 16 kHz, with scipy's default filter (Kaiser beta 5, 20 * max(up, down) + 1 taps at
the upsampled rate, cut-off at the output Nyquist; its stop band is measured and printed) and with hark's
filter (80 dB from the output Nyquist, designed as in make-resample-golden.py). Input: float32 noise plus
two tones, like the CLI benchmark. Best of 5 runs; wall and CPU (process) seconds.
"""
import os

for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ[var] = '1'  # before numpy loads; upfirdn itself is single-threaded Cython

import time  # noqa: E402
from importlib.util import module_from_spec, spec_from_file_location  # noqa: E402
from math import gcd  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.signal  # noqa: E402

spec = spec_from_file_location('golden', Path(__file__).with_name('make-resample-golden.py'))
golden = module_from_spec(spec)
spec.loader.exec_module(golden)
SECONDS, REPEATS = 60, 5


def test_signal(rate: int) -> np.ndarray:
    i = np.arange(rate * SECONDS)
    noise = np.random.default_rng(12345).random(i.size) - 0.5
    x = 0.1 * noise + 0.3 * np.sin(2 * np.pi * 440 * i / rate) + 0.1 * np.sin(2 * np.pi * 3150 * i / rate)
    return x.astype(np.float32)


def best(run) -> tuple[float, float]:
    wall = cpu = float('inf')
    run()
    for _ in range(REPEATS):
        w0, c0 = time.perf_counter(), time.process_time()
        run()
        wall, cpu = min(wall, time.perf_counter() - w0), min(cpu, time.process_time() - c0)
    return wall, cpu


def stop_band(h: np.ndarray, up: int, rate_in: int, rate_out: int) -> str:
    """Least attenuation (dB) from the output Nyquist up, and from where on it is >= 80 dB."""
    n = 1 << 22
    db = -20 * np.log10(np.maximum(np.abs(np.fft.rfft(h, n)) / np.sum(h), 1e-300))  # relative to DC
    f = np.arange(db.size) * (up * rate_in) / n
    nyquist = min(rate_in, rate_out) / 2
    below = np.nonzero(db < 80)[0]
    if below.size and below[-1] + 1 >= f.size:
        f80 = 'nowhere below the Nyquist of the upsampled rate'
    else:
        f80 = f'from {f[below[-1] + 1 if below.size else 0] / 1000:.2f} kHz'
    return f'{db[f >= nyquist].min():.1f} dB from {nyquist / 1000:g} kHz, >= 80 dB {f80}'


def main() -> None:
    print(f'scipy {scipy.__version__}, numpy {np.__version__}, {SECONDS} s of float32 audio, best of {REPEATS}')
    for rate in (48000, 44100):
        g = gcd(rate, 16000)
        up, down = 16000 // g, rate // g
        x = test_signal(rate)
        m = max(up, down)
        default = scipy.signal.firwin(2 * 10 * m + 1, 1 / m, window=('kaiser', 5.0))
        _, _, half_taps, ours = golden.design(rate, 16000)
        for name, h, window in (('default filter', default, ('kaiser', 5.0)), ("hark's 80 dB filter", ours, ours / up)):
            wall, cpu = best(lambda: scipy.signal.resample_poly(x, up, down, window=window))
            taps = h.size / up
            print(f'{rate} -> 16000, {name} ({taps:.0f} taps per output; {stop_band(h, up, rate, 16000)}): '
                  f'wall {wall:.4f} s = {SECONDS / wall:.0f}x, '
                  f'CPU {cpu:.4f} s = {SECONDS / cpu:.0f}x real time')


if __name__ == '__main__':
    main()
