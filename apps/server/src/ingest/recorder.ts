/** Enrolment's recording: `seconds` of a sensor's live audio at the analysis rate, as it arrives. */
import type { SensorStream } from './sensor-stream.js';

/** A sensor that stops sending for this long fails its enrolment, ms. */
const STALL_MS = 30_000;

export function recordStream(
  sensorId: string,
  stream: SensorStream,
  seconds: number,
  progress: (done: number, total: number) => void,
): Promise<Float32Array> {
  return new Promise((resolve, reject) => {
    const rate = stream.analysisSampleRate;
    const out = new Float32Array(Math.round(seconds * rate));
    let at = 0;
    let lastReport = 0;
    let lastAudio = Date.now();
    const stall = setInterval(() => {
      if (Date.now() - lastAudio > STALL_MS) {
        finish();
        reject(
          new Error(
            `sensor ${sensorId} stopped streaming during enrolment (${(at / rate).toFixed(1)} s recorded)`,
          ),
        );
      }
    }, 1000);
    const off = stream.onSamples((samples) => {
      lastAudio = Date.now();
      const n = Math.min(samples.length, out.length - at);
      out.set(samples.subarray(0, n), at);
      at += n;
      if (at - lastReport >= rate / 2 || at === out.length) {
        lastReport = at;
        progress(Math.round((at / rate) * 10) / 10, seconds);
      }
      if (at === out.length) {
        finish();
        resolve(out);
      }
    });
    const finish = () => {
      clearInterval(stall);
      off();
    };
  });
}
