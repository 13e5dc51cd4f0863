#!/usr/bin/env bash
# `make demo`: what exists so far, end to end on demo sound the project synthesises itself.
# The live server, demo sensors and dashboard join this script as they land (issues 5 and 6).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${HARK_DEMO_DIR:-demo-output}
hark() { node apps/cli/bin/hark.js "$@"; }

echo "== synthesising demo machines (pump, fan, gearbox) with known anomalies into $out/"
hark synth "$out" --train 16 --test 2 --stream-seconds 60
for m in pump fan gearbox; do
  hark spectrogram "$out/synth_$m/stream.wav" --png "$out/synth_$m/stream.png"
  events=$(node -e "console.log(require(process.argv[1]).events.map(e => e.label + ' ' + e.onset + ' s').join(', '))" \
    "$(realpath "$out/synth_$m/stream.json")")
  echo "   $out/synth_$m/stream.png   (anomalies at: $events)"
done

echo "== fitting a detector (PatchCore on MobileNetV2 patches) on the pump's normal clips"
hark fit "$out/synth_pump/train" --out "$out/models/pump"
echo "== scoring the pump's test clips (normalised score > 1.0 means anomalous)"
hark score --model "$out/models/pump" "$out"/synth_pump/test/*.wav --png "$out/pump-score.png"
echo "   pictures of the anomaly maps: $out/pump-score-*.png"

echo "== streaming log-mel throughput on this machine"
hark bench dsp --no-write
