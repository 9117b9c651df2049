import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { identityCodec, NatsClaimCheckCodec, PayloadCodec } from '@vfl/transport';
import { AuditModule } from '../audit/audit.module';
import { CoordinatorConfig } from '../config/coordinator.config';
import { PartyClients } from './party-clients.service';
import { PartyHealth } from './party-health.service';

@Module({
  imports: [AuditModule],
  providers: [
    {
      provide: PayloadCodec,
      inject: [CoordinatorConfig],
      useFactory: (config: CoordinatorConfig) =>
        config.transport === 'nats' ? NatsClaimCheckCodec.connect(config.natsUrl) : identityCodec,
    },
    PartyClients,
    PartyHealth,
  ],
  exports: [PartyClients, PartyHealth],
})
export class PartiesModule implements OnApplicationShutdown {
  constructor(@Inject(PayloadCodec) private readonly codec: PayloadCodec) {}

  async onApplicationShutdown(): Promise<void> {
    await this.codec.close();
  }
}
