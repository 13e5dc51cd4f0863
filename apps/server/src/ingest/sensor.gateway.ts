import { Inject } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { OnGatewayConnection, OnGatewayDisconnect, OnGatewayInit } from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import {
  SERVER_CLOSED_EVENT,
  sensorIdProblem,
  type HelloAck,
  type SensorAck,
  type ServerClosed,
} from '@hark/protocol';
import { Sensors } from '../sensors/sensors.js';
import { TokenService } from '../auth/token.service.js';
import { leaseRefused, tooManySensors, unauthorized } from '../auth/handshake.js';
import { Cluster } from '../cluster/cluster.js';
import { holderInstance } from '../cluster/ownership.js';
import { HarkMetrics } from '../metrics/hark.metrics.js';

interface SensorData {
  sensorId: string;
  tokenName: string;
}

/** Runs a message's handler; an unexpected error is answered to that sensor as `INTERNAL`, never thrown. */
function answer<A>(handle: () => A): A | { ok: false; code: 'INTERNAL'; error: string } {
  try {
    return handle();
  } catch (err) {
    return { ok: false, code: 'INTERNAL', error: `server error: ${(err as Error).message}` };
  }
}

/**
 * Namespace `/sensor`: a sensor authenticates in the handshake (`auth: {token, sensorId}`), says `hello`, then
 * streams `audio` chunks; every message is acknowledged. Any error is caught here and answered to that sensor
 * only.
 */
@WebSocketGateway({ namespace: '/sensor' })
export class SensorGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    @Inject(Sensors) private readonly sensors: Sensors,
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(HarkMetrics) private readonly metrics: HarkMetrics,
    @Inject(Cluster) private readonly cluster: Cluster,
  ) {}

  afterInit(nsp: Namespace): void {
    // An instance that lost a sensor's lease stops receiving it: the sensor reconnects (to whichever instance
    // holds or may take it).
    this.cluster.dropSensor = (sensorId, reason) => {
      for (const socket of nsp.sockets.values())
        if ((socket.data as SensorData | undefined)?.sensorId === sensorId) {
          this.sensors.d.log(`sensor ${sensorId}: ${reason}`);
          socket.disconnect(true);
        }
    };
    this.cluster.connectionAlive = (socketId) => nsp.sockets.has(socketId);
    nsp.use((socket, next) => void this.#admit(socket, next).catch((err: Error) => next(err)));
  }

  /** The handshake: a valid token that may stream as the sensor id, room for the sensor, and its lease. */
  async #admit(socket: Socket, next: (err?: Error) => void): Promise<void> {
    const auth = (socket.handshake.auth ?? {}) as { token?: unknown; sensorId?: unknown };
    const fail = (message: string) => {
      this.metrics.ingestRejections.inc({ code: 'BAD_TOKEN' });
      next(unauthorized(message));
    };
    if (typeof auth.token !== 'string' || auth.token === '')
      return fail('missing token: connect with auth {token, sensorId}');
    const problem = sensorIdProblem(auth.sensorId);
    if (problem || typeof auth.sensorId !== 'string') return fail(`sensorId ${problem}`);
    const info = await this.tokens.verify(auth.token);
    if (!info) return fail('invalid or revoked token');
    const refused = await this.tokens.streamAs(info, auth.sensorId);
    if (refused) return fail(refused);
    const full = this.sensors.admissionProblem(auth.sensorId, info);
    if (full) {
      this.metrics.ingestRejections.inc({ code: 'TOO_MANY_SENSORS' });
      return next(tooManySensors(full));
    }
    const sensorId = auth.sensorId;
    // Last, once everything else admits it: only one instance of a cluster scores a sensor at a time.
    let claim: Awaited<ReturnType<typeof this.cluster.claim>>;
    try {
      claim = await this.cluster.claim(sensorId, socket.id);
    } catch (err) {
      return next(new Error(`server error while leasing sensor '${sensorId}': ${(err as Error).message}`));
    }
    if (!claim.ok) {
      this.metrics.ingestRejections.inc({ code: claim.code });
      const instance = claim.code === 'SENSOR_LEASED' ? holderInstance(claim.holder) : null;
      return next(
        leaseRefused(
          claim.code === 'SENSOR_LEASED'
            ? `sensor '${sensorId}' is streaming to instance ${instance} (its lease ends in ` +
                `${(claim.retryAfterMs / 1000).toFixed(1)} s unless renewed): connect there, or retry`
            : `${claim.error}: retry, or connect to another instance`,
          { code: claim.code, instance, retryAfterMs: claim.retryAfterMs },
        ),
      );
    }
    (socket.data as SensorData) = { sensorId, tokenName: info.name };
    next();
  }

  handleConnection(socket: Socket): void {
    const { sensorId, tokenName } = socket.data as SensorData;
    const kick = (message: string) => {
      socket.emit(SERVER_CLOSED_EVENT, { message } satisfies ServerClosed);
      socket.disconnect(true);
    };
    this.sensors.connect(sensorId, socket.id, kick, tokenName);
  }

  handleDisconnect(socket: Socket): void {
    const data = socket.data as SensorData | undefined;
    if (!data?.sensorId) return;
    this.sensors.disconnect(data.sensorId, socket.id);
    this.cluster.release(data.sensorId, socket.id);
  }

  @SubscribeMessage('hello')
  hello(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): HelloAck {
    const { sensorId } = socket.data as SensorData;
    return answer(() => this.sensors.hello(sensorId, socket.id, body));
  }

  @SubscribeMessage('audio')
  audio(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): SensorAck {
    const { sensorId } = socket.data as SensorData;
    return answer(() => this.sensors.audio(sensorId, socket.id, body));
  }
}
