#!/bin/sh
# The `demo` profile of docker-compose.yml: a synthetic pump (`hark synth`) streamed in real time to the
# `hark` service, with an anomaly every 60 s. It shares the server's data volume: on its first start it fits
# the pump's detector into /data/models/demo-pump/ (picked up by the running server) and creates its own
# sensor token, kept in /data/demo-sensor.token for later restarts.
set -eu
data=${HARK_DATA:-/data}
id=demo-pump
sound=/tmp/hark-demo-sound
hark() { node apps/cli/bin/hark.js "$@"; }

hark synth "$sound" --machines pump --train 16 --test 1 \
  --stream-seconds 300 --anomaly-every 60 --first-anomaly 0
# Anomalies 20 s after the start, then every minute; the loop's seam hidden in one (see demo-sound.mjs).
node scripts/demo-sound.mjs "$sound/synth_pump" "$sound/$id" 20
if [ ! -d "$data/models/$id" ]; then
  rm -rf "$data/models/.staging-$id"
  hark fit "$sound/synth_pump/train" --out "$data/models/.staging-$id"
  mv "$data/models/.staging-$id" "$data/models/$id"
fi
if [ ! -s "$data/demo-sensor.token" ]; then
  hark token create --role sensor --name demo-sensor --data "$data" --json |
    node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).token' >"$data/demo-sensor.token"
fi
HARK_TOKEN=$(cat "$data/demo-sensor.token")
export HARK_TOKEN
exec node apps/cli/bin/hark.js sensor --server "${HARK_SERVER:-http://hark:8080}" --id "$id" \
  --name 'Demo pump' --label site=demo --wav "$sound/$id.wav" --loop
