/**
 * A real SMTP server for tests (`smtp-server`, the server half of nodemailer's project) on a free loopback
 * port: it accepts every message (plain SMTP, optional login) and keeps them for the test to read.
 */
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw message (headers and body). */
  raw: string;
  /** The login it came with, if any. */
  user: string | null;
}

export interface SmtpSink {
  host: string;
  port: number;
  mails: ReceivedMail[];
  stop(): Promise<void>;
}

/** `users`: accepted logins (user -> password); without it, no login is needed. */
export async function startSmtpSink(users?: Record<string, string>): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: users ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    allowInsecureAuth: true,
    authOptional: !users,
    logger: false,
    onAuth(auth, _session, cb) {
      if (users && users[auth.username ?? ''] === auth.password) cb(null, { user: auth.username });
      else cb(new Error('invalid user name or password'));
    },
    onData(stream, session, cb) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (raw += d));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          user: typeof session.user === 'string' ? session.user : null,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    mails,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
