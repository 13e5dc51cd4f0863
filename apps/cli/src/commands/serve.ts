import { InvalidArgumentError, type Command } from 'commander';
import { createServer, resolveServerConfig, TokenService, HarkStore, ROLES, type Role } from '@hark/server';

/** Options of `hark serve`. */
export interface ServeOptions {
  port: number;
  host: string;
  data: string;
  webhookUrl?: string;
  webhookSecret?: string;
  hopSeconds?: number;
  dashboard?: string;
}

/** `hark serve`: runs the server until SIGINT / SIGTERM, then closes it cleanly. */
export async function runServe(o: ServeOptions): Promise<void> {
  const server = await createServer({
    port: o.port,
    host: o.host,
    dataDir: o.data,
    webhookUrl: o.webhookUrl,
    webhookSecret: o.webhookSecret,
    hopSeconds: o.hopSeconds,
    ...(o.dashboard ? { dashboardDir: o.dashboard } : {}),
  });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`${signal}: stopping the server...`);
      server.close().then(resolve, (err: unknown) => {
        console.error(`error while stopping: ${(err as Error).message}`);
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/** `hark token create`: a new token in the data directory's database (the server may be running). */
export function runTokenCreate(o: { role: Role; name: string; data: string; json?: boolean }): void {
  const { dataDir } = resolveServerConfig({ dataDir: o.data });
  const store = new HarkStore(dataDir);
  try {
    const created = new TokenService(store.tokens).create(o.role, o.name);
    if (o.json) console.log(JSON.stringify(created));
    else {
      console.log(
        `created ${created.role} token "${created.name}" (id ${created.id}); it is shown only once:`,
      );
      console.log(created.token);
    }
  } finally {
    store.close();
  }
}

const port = (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new InvalidArgumentError(`'${v}' is not a port number (0-65535)`);
  return n;
};

const role = (v: string): Role => {
  if (!(ROLES as readonly string[]).includes(v))
    throw new InvalidArgumentError(`role '${v}' must be one of ${ROLES.join(', ')}`);
  return v as Role;
};

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the hark server: sensor ingest, scoring, alerts, REST API and dashboard')
    .option('--port <n>', 'TCP port', port, 8080)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--data <dir>', 'data directory (SQLite, models, alert clips)', './data')
    .option(
      '--webhook-url <url>',
      'POST alert notifications here (JSON, signed; default: $HARK_WEBHOOK_URL, else none)',
    )
    .option(
      '--webhook-secret <secret>',
      'shared secret of the webhook signature (default: $HARK_WEBHOOK_SECRET; needed with a webhook URL)',
    )
    .option(
      '--hop-seconds <s>',
      `seconds between scored windows (default: $HARK_HOP_SECONDS, else ${resolveServerConfig({}, {}).hopSeconds})`,
      Number,
    )
    .option('--dashboard <dir>', 'serve this built dashboard at / (default: apps/dashboard/dist)')
    .action((o: ServeOptions) => runServe(o));

  const token = program.command('token').description('manage access tokens');
  token
    .command('create')
    .description('create a token (printed once)')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, role)
    .requiredOption('--name <name>', 'who or what uses it')
    .option('--data <dir>', 'data directory of the server', './data')
    .option('--json', 'print JSON')
    .action((o: { role: Role; name: string; data: string; json?: boolean }) => runTokenCreate(o));
}
