#!/usr/bin/env node
// Small HTTP helpers for scripts/demo.sh (no curl needed):
//   demo-http.mjs port-free HOST PORT         exit 0 when nothing listens there, 1 (with a message) when taken
//   demo-http.mjs wait-ready URL SECONDS [PID] exit 0 once URL/api/docs-json answers 200, 1 after SECONDS or
//                                             as soon as process PID has ended
//   demo-http.mjs check URL TOKEN ID,ID,... [MIN_ALERTS]
//                                             exit 0 when every sensor is scoring and has scores and at least
//                                             MIN_ALERTS anomaly alerts opened (prints a summary), else 1
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const { fetch } = globalThis;

const [cmd, ...args] = process.argv.slice(2);

async function portFree(host, port) {
  const free = await new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', (err) => resolve(err.code === 'EADDRINUSE' ? false : err));
    srv.listen(Number(port), host, () => srv.close(() => resolve(true)));
  });
  if (free === true) return 0;
  if (free === false) {
    console.error(
      `hark demo: port ${port} on ${host} is taken by another program (an earlier demo still running?).`,
    );
    console.error(`hark demo: stop it, or choose another port: HARK_PORT=${Number(port) + 1} make demo`);
  } else console.error(`hark demo: cannot listen on ${host}:${port}: ${free.message}`);
  return 1;
}

const alive = (pid) => {
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch {
    return false;
  }
};

async function waitReady(url, seconds, pid) {
  const until = Date.now() + Number(seconds) * 1000;
  while (Date.now() < until) {
    if (pid && !alive(pid)) {
      console.error(`hark demo: the server (process ${pid}) ended before answering ${url}`);
      return 1;
    }
    try {
      const res = await fetch(`${url}/api/docs-json`);
      if (res.ok) return 0;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  console.error(`hark demo: the server did not answer ${url}/api/docs-json within ${seconds} s`);
  return 1;
}

async function get(url, token, path) {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function check(url, token, ids, minAlerts = 0) {
  const problems = [];
  const sensors = await get(url, token, '/api/sensors');
  for (const id of ids.split(',')) {
    const s = sensors.find((x) => x.id === id);
    if (!s) {
      problems.push(`sensor ${id} is not known to the server`);
      continue;
    }
    const scores = await get(url, token, `/api/sensors/${id}/scores?limit=1000`);
    const max = scores.reduce((m, p) => Math.max(m, p.score), 0);
    console.log(
      `   ${id.padEnd(10)} state ${s.state.padEnd(10)} windows scored ${String(s.windowsScored).padStart(4)}` +
        `, dropped ${s.windowsDropped}; ${scores.length} score points, highest ${max.toFixed(2)}; open alerts ${s.openAlerts}`,
    );
    if (s.state !== 'scoring') problems.push(`sensor ${id} is in state '${s.state}', not 'scoring'`);
    if (scores.length === 0) problems.push(`sensor ${id} has no scores`);
  }
  if (sensors.length !== ids.split(',').length)
    problems.push(`the server knows ${sensors.length} sensors: ${sensors.map((s) => s.id).join(', ')}`);
  const alerts = await get(url, token, '/api/alerts?kind=anomaly&limit=100');
  for (const a of alerts.items ?? []) {
    console.log(
      `   alert #${a.id} on ${a.sensorId}: ${a.state}, peak score ${Number(a.peakScore ?? 0).toFixed(2)}`,
    );
  }
  const total = alerts.total ?? (alerts.items ?? []).length;
  console.log(`   ${total} anomaly alerts so far`);
  if (total < Number(minAlerts)) problems.push(`${total} anomaly alerts, expected at least ${minAlerts}`);
  for (const p of problems) console.error(`hark demo: check failed: ${p}`);
  return problems.length ? 1 : 0;
}

const commands = {
  'port-free': () => portFree(args[0], args[1]),
  'wait-ready': () => waitReady(args[0], args[1], args[2]),
  check: () => check(args[0], args[1], args[2], args[3]),
};
if (!commands[cmd]) {
  console.error(`usage: demo-http.mjs port-free|wait-ready|check ...`);
  process.exit(2);
}
commands[cmd]().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`hark demo: ${err.message}`);
    process.exit(1);
  },
);
