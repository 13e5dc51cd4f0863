import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { SensorGateway } from './ingest/sensor.gateway.js';
import { LiveGateway } from './live/live.gateway.js';
import { HTTP_CONTROLLERS, HTTP_PROVIDERS } from './http/index.js';

/**
 * The Nest application: REST controllers and the two socket.io gateways over instances built by
 * `createServer` (plain classes, provided by value so they are the same objects the runtime uses).
 */
@Module({})
export class AppModule {
  static forRoot(values: Provider[]): DynamicModule {
    return {
      module: AppModule,
      controllers: [...HTTP_CONTROLLERS],
      providers: [...values, ...HTTP_PROVIDERS, SensorGateway, LiveGateway],
    };
  }
}
