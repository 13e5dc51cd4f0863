import { Inject } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { OnGatewayConnection, OnGatewayDisconnect, OnGatewayInit } from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import { DEFAULT_BACKFILL_SECONDS, MAX_BACKFILL_SECONDS, type SensorStatus } from '@hark/protocol';
import { TokenService } from '../auth/token.service.js';
import { unauthorized } from '../auth/handshake.js';
import { LiveHub } from './live-hub.js';
import { Sensors } from '../sensors/sensors.js';
import { HarkMetrics } from '../metrics/hark.metrics.js';
import { Cluster } from '../cluster/cluster.js';

type SubscribeAck = { ok: true; status: SensorStatus | null } | { ok: false; error: string };

/** Namespace `/live`: dashboards (operator or admin tokens) receive status, alerts, scores and columns. */
@WebSocketGateway({ namespace: '/live' })
export class LiveGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    @Inject(LiveHub) private readonly hub: LiveHub,
    @Inject(Sensors) private readonly sensors: Sensors,
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(HarkMetrics) private readonly metrics: HarkMetrics,
    @Inject(Cluster) private readonly cluster: Cluster,
  ) {}

  afterInit(nsp: Namespace): void {
    nsp.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      void (typeof token === 'string' ? this.tokens.verify(token) : Promise.resolve(null)).then((info) => {
        if (!info) return next(unauthorized('invalid or missing token'));
        if (info.role === 'sensor')
          return next(new Error('a sensor token cannot open the dashboard; use an operator token'));
        socket.data = { name: info.name, role: info.role };
        next();
      }, next);
    });
  }

  handleConnection(socket: Socket): void {
    this.hub.add({
      id: socket.id,
      emit: (event, payload) => socket.emit(event, payload),
      backlog: () => (socket.conn as unknown as { writeBuffer?: unknown[] }).writeBuffer?.length ?? 0,
      onDrain: (cb) => socket.conn?.on('drain', cb),
    });
    this.metrics.liveClients.set(this.hub.clients);
  }

  handleDisconnect(socket: Socket): void {
    this.hub.remove(socket.id);
    this.metrics.liveClients.set(this.hub.clients);
  }

  @SubscribeMessage('subscribe')
  async subscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<SubscribeAck> {
    const b = (body ?? {}) as { sensorId?: unknown; backfillSeconds?: unknown };
    if (typeof b.sensorId !== 'string' || b.sensorId === '')
      return { ok: false, error: 'subscribe needs {sensorId}' };
    if (b.sensorId === '*') {
      this.hub.subscribe(socket.id, '*');
      return { ok: true, status: null };
    }
    const status = await this.sensors.status(b.sensorId);
    if (!status) return { ok: false, error: `unknown sensor ${JSON.stringify(b.sensorId)}` };
    const seconds =
      typeof b.backfillSeconds === 'number' && b.backfillSeconds >= 0
        ? Math.min(MAX_BACKFILL_SECONDS, b.backfillSeconds)
        : DEFAULT_BACKFILL_SECONDS;
    // A sensor streaming to another instance of a cluster: its recent columns come from there, before the
    // subscription starts (so they never follow newer live ones).
    const remote = status.instance !== null && status.instance !== this.cluster.instance;
    const backfill = remote ? await this.cluster.backfill(b.sensorId, seconds) : [];
    this.hub.subscribe(socket.id, b.sensorId);
    for (const ev of remote ? backfill : this.sensors.backfill(b.sensorId, seconds))
      this.hub.sendColumns(socket.id, ev);
    return { ok: true, status };
  }

  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): { ok: true } {
    const id = (body as { sensorId?: unknown } | undefined)?.sensorId;
    this.hub.unsubscribe(socket.id, typeof id === 'string' ? id : undefined);
    return { ok: true };
  }
}
