#!/usr/bin/env bash
# `make demo`: a live hark on 127.0.0.1 with three demo machines streaming in real time.
#
# Synthesises a pump, a fan and a gearbox with `hark synth` (our own generator: no recordings, no licences),
# fits a detector per machine on its normal clips, starts `hark serve` on a fresh data directory, creates an
# operator and a sensor token, streams each machine's 5-minute recording in a loop with `hark sensor` (an
# anomaly every 60 s per machine, staggered: somewhere in the plant every 20 s or so), prints the dashboard's
# sign-in link and waits. Ctrl-C stops the sensors, then the server, and waits for them.
#
#   bash scripts/demo.sh                 run until Ctrl-C
#   bash scripts/demo.sh --check [N]     run N seconds (default 45), verify (3 sensors scoring, scores, an anomaly
#                                        alert when N >= 30), stop, verify nothing is left
#
# Environment: HARK_PORT (default 8080), HARK_DEMO_DIR (default demo-output; its data/ is wiped each start),
# HARK_DEMO_REFIT=1 (fit the detectors again even when the sound and the detection code are unchanged),
# HARK_DEMO_SPEED (default 1: real time; 4 plays the recordings four times faster, an anomaly every 15 s per
# machine). The server reads its own variables too, e.g. HARK_ALERT_QUIET_SECONDS, HARK_ALERT_REPEAT_SECONDS.
set -euo pipefail
shopt -s globstar
cd "$(dirname "$0")/.."

check_seconds=""
case "${1:-}" in
  --check) check_seconds=${2:-45} ;;
  "") ;;
  *)
    echo "usage: scripts/demo.sh [--check [SECONDS]]" >&2
    exit 2
    ;;
esac

port=${HARK_PORT:-8080}
host=127.0.0.1
url="http://$host:$port"
out=${HARK_DEMO_DIR:-demo-output}
data="$out/data"
logs="$out/logs"
sound="$out/sound"
hark() { node apps/cli/bin/hark.js "$@"; }
http() { node scripts/demo-http.mjs "$@"; }
now() { date +%s; }
t0=$(now)

# id | machine | display name | labels | first anomaly (s). Each stream: 300 s, an anomaly every 60 s.
sensors=(
  "pump-1|pump|Pump 1|site=plant-1 line=A|15"
  "fan-1|fan|Fan 1|site=plant-1 line=A|35"
  "gearbox-1|gearbox|Gearbox 1|site=plant-1 line=B|55"
)
stream_seconds=300
anomaly_every=60
speed=${HARK_DEMO_SPEED:-1}
[[ "$speed" =~ ^[0-9]+([.][0-9]+)?$ ]] && [ "$speed" != 0 ] || {
  echo "hark demo: HARK_DEMO_SPEED ($speed) must be a number > 0, e.g. 1 or 4" >&2
  exit 2
}

# Every process this script starts in the background; stopped (sensors first, then the server) on exit.
server_pid=""
sensor_pids=()
job_pids=()
stop_all() {
  local pids=("${job_pids[@]}" "${sensor_pids[@]}")
  if ((${#pids[@]})); then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  job_pids=()
  sensor_pids=()
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
on_exit() {
  local code=$?
  trap - EXIT INT TERM HUP
  if [ -n "$server_pid" ] || ((${#sensor_pids[@]} + ${#job_pids[@]})); then
    echo
    echo "== stopping the sensors and the server"
    stop_all
    echo "   stopped (logs in $logs/)"
  fi
  exit "$code"
}
trap on_exit EXIT
trap 'exit 0' INT TERM HUP

# Exits (stopping the rest through the EXIT trap) when the server or a sensor has ended: says which with $1,
# and shows the last $2 lines of every log.
exit_if_one_ended() {
  local pid
  for pid in "$server_pid" "${sensor_pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || {
      echo "hark demo: process $pid $1" >&2
      tail -n "$2" "$logs"/*.log >&2
      exit 1
    }
  done
}

# Children run in their own session: Ctrl-C reaches this script only, which stops each of them once, in order.
spawn() { setsid "$@" & }

echo "== checking that $host:$port is free"
http port-free "$host" "$port" || exit 1

# --- sound: synthesised once, reused while the generator and its parameters stay the same ---------------------
# Each machine's stream has its anomalies at 0, 60, 120... s; demo-sound.mjs rotates it so that the first one
# (and the loop's seam, hidden in it) comes at the sensor's offset.
stamp="$stream_seconds $anomaly_every ${sensors[*]} $(cat libs/dsp/dist/synth/*.js scripts/demo-sound.mjs | sha1sum | cut -c1-12)"
if [ "$(cat "$sound/.stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "== synthesising the demo machines' sound with hark synth (about 10 s)"
  rm -rf "$sound"
  mkdir -p "$sound" "$logs"
  for s in "${sensors[@]}"; do
    IFS='|' read -r id machine _ _ _ <<<"$s"
    spawn node apps/cli/bin/hark.js synth "$sound/$machine" --machines "$machine" --train 16 --test 1 \
      --stream-seconds "$stream_seconds" --anomaly-every "$anomaly_every" --first-anomaly 0 \
      >"$logs/synth-$machine.log" 2>&1
    job_pids+=($!)
  done
  for pid in "${job_pids[@]}"; do wait "$pid" || {
    cat "$logs"/synth-*.log >&2
    exit 1
  }; done
  job_pids=()
  for s in "${sensors[@]}"; do
    IFS='|' read -r id machine _ _ first <<<"$s"
    node scripts/demo-sound.mjs "$sound/$machine/synth_$machine" "$sound/$id" "$first" >/dev/null
  done
  echo "$stamp" >"$sound/.stamp"
else
  echo "== reusing the demo sound in $sound/"
fi
for s in "${sensors[@]}"; do
  IFS='|' read -r id _ _ _ _ <<<"$s"
  events=$(node -e "console.log(require(process.argv[1]).events.map(e => e.label + ' at ' + e.onset + ' s').join(', '))" \
    "$(realpath "$sound/$id.json")")
  echo "   $id: $sound/$id.wav (${stream_seconds} s, looped; $events)"
done

# --- a detector per sensor, fitted again when the sound or the detection code changed ------------------------
models="$out/models"
model_stamp="$stamp $(cat libs/detection/dist/**/*.js native/dist/*.js 2>/dev/null | sha1sum | cut -c1-12)"
mkdir -p "$logs"
rm -f "$logs"/*.log
if [ "${HARK_DEMO_REFIT:-}" != "" ] || [ "$(cat "$models/.stamp" 2>/dev/null)" != "$model_stamp" ]; then
  rm -rf "$models"
  mkdir -p "$models"
  echo "== fitting a detector per sensor on 16 normal clips (PatchCore on MobileNetV2; about 20 s of CPU each)"
  for s in "${sensors[@]}"; do
    IFS='|' read -r id machine _ _ _ <<<"$s"
    spawn node apps/cli/bin/hark.js fit "$sound/$machine/synth_$machine/train" --out "$models/$id" \
      >"$logs/fit-$id.log" 2>&1
    job_pids+=($!)
  done
  i=0
  for s in "${sensors[@]}"; do
    IFS='|' read -r id _ _ _ _ <<<"$s"
    if ! wait "${job_pids[$i]}"; then
      echo "hark demo: fitting $id failed:" >&2
      cat "$logs/fit-$id.log" >&2
      exit 1
    fi
    echo "   $id: $(grep -m1 'patchcore\|padim\|spade' "$logs/fit-$id.log" | sed 's/^[^:]*: //') [$(($(now) - t0)) s]"
    i=$((i + 1))
  done
  job_pids=()
  echo "$model_stamp" >"$models/.stamp"
else
  echo "== reusing the detectors fitted by the previous run in $models/ (HARK_DEMO_REFIT=1 fits them again)"
fi

# A fresh data directory, with each model where the server looks for it: DATA/models/<sensorId>/.
rm -rf "$data"
mkdir -p "$data/models"
for s in "${sensors[@]}"; do
  IFS='|' read -r id _ _ _ _ <<<"$s"
  cp -r "$models/$id" "$data/models/$id"
done

# --- the server -----------------------------------------------------------------------------------------------
echo "== starting hark serve on $url (data: $data)"
spawn node --single-threaded-gc --initial-old-space-size=256 apps/cli/bin/hark.js serve --host "$host" --port "$port" --data "$data" >"$logs/server.log" 2>&1
server_pid=$!
http wait-ready "$url" 60 "$server_pid" || {
  cat "$logs/server.log" >&2
  exit 1
}
admin=$(sed -n 's/.*created an admin token.*: \(hark_[A-Za-z0-9_-]*\).*/\1/p' "$logs/server.log" | head -1)
[ -n "$admin" ] || {
  echo "hark demo: the server printed no admin token (is $data really fresh?)" >&2
  cat "$logs/server.log" >&2
  exit 1
}
token() { hark token create --role "$1" --name "$2" "${@:3}" --data "$data" --json | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).token'; }
operator=$(token operator demo-operator)
# One sensor token for the demo's sensors, bound to their ids (a sensor token streams only as its sensors).
demo_ids=""
for s in "${sensors[@]}"; do
  IFS='|' read -r id _ <<<"$s"
  demo_ids+="${demo_ids:+,}$id"
done
sensor_token=$(token sensor demo-sensors --sensor "$demo_ids")

# --- the sensors ----------------------------------------------------------------------------------------------
ids=()
firsts=""
for s in "${sensors[@]}"; do
  IFS='|' read -r id _ name labels first <<<"$s"
  label_args=()
  for l in $labels; do label_args+=(--label "$l"); done
  HARK_TOKEN=$sensor_token spawn node apps/cli/bin/hark.js sensor --server "$url" --id "$id" --name "$name" \
    "${label_args[@]}" --wav "$sound/$id.wav" --loop --speed "$speed" >"$logs/sensor-$id.log" 2>&1
  sensor_pids+=($!)
  ids+=("$id")
  firsts+="${firsts:+, }$id at ${first} s"
done
if [ "$speed" = 1 ]; then pace="in real time"; else pace="at ${speed}x real time"; fi
echo "== ${#ids[@]} sensors streaming $pace: ${ids[*]} (logs in $logs/)"

cat <<EOF

   Dashboard:   $url/?token=$operator
   Admin token: $admin
   (operator sign-in link above; the admin token manages tokens and models: $url/api/docs)

   Ready in $(($(now) - t0)) s. Each machine has an anomaly every $anomaly_every s of its recording; the first
   ones: $firsts.
   Press Ctrl-C to stop.

EOF

# --- wait (or check) ------------------------------------------------------------------------------------------
if [ -n "$check_seconds" ]; then
  echo "== check mode: running for $check_seconds s"
  end=$(($(now) + check_seconds))
  while (($(now) < end)); do
    exit_if_one_ended 'ended early; logs:' 20
    sleep 1
  done
  status=0
  # The first anomaly (15 s after the start) alerts within a few seconds: expect it after 30 s.
  min_alerts=$((check_seconds >= 30 ? 1 : 0))
  http check "$url" "$operator" "$(
    IFS=,
    echo "${ids[*]}"
  )" "$min_alerts" || status=1
  all_pids=("$server_pid" "${sensor_pids[@]}")
  echo "== stopping the sensors and the server"
  stop_all
  for pid in "${all_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "hark demo: check failed: process $pid is still running" >&2
      status=1
    fi
  done
  left=$(
    me=$BASHPID # this command substitution, itself a child of the script
    pgrep -P $$ | grep -vx "$me"
    pgrep -f -- "--data $data"
    pgrep -f -- "--wav $sound/"
  ) || true
  if [ -n "$left" ]; then
    echo "hark demo: check failed: processes left behind: $(echo $left)" >&2
    status=1
  fi
  http port-free "$host" "$port" || status=1
  for s in "${sensors[@]}"; do
    IFS='|' read -r id _ _ _ _ <<<"$s"
    tail -n 1 "$logs/sensor-$id.log" | sed "s/^/   $id: /"
  done
  tail -n 1 "$logs/server.log" | sed 's/^/   server: /'
  if ((status == 0)); then echo "== check passed in $(($(now) - t0)) s"; else echo "== check FAILED" >&2; fi
  exit "$status"
fi

while :; do
  # Returns when a child ends (it should not) or when Ctrl-C runs the trap.
  wait -n "$server_pid" "${sensor_pids[@]}" || true
  exit_if_one_ended 'ended unexpectedly; last lines of the logs:' 5
done
