/**
 * A party service (bank, e-commerce, ...): a Nest microservice around the PartyNode protocol
 * engine. Configured entirely by environment (see PartyConfig).
 */
import 'reflect-metadata';
import { ConsoleLogger, Logger, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { partyServerOptions } from '@vfl/transport';
import { PartyConfig } from './party.config';
import { PartyModule } from './party.module';

async function bootstrap(): Promise<void> {
  const config = PartyConfig.fromEnv();
  const logger: LoggerService | LogLevel[] =
    config.logFormat === 'json'
      ? new ConsoleLogger({ json: true, logLevels: ['error', 'warn', 'log'] })
      : ['error', 'warn', 'log'];
  const transport = partyServerOptions(config, config.partyId, { host: config.host, port: config.port });
  if (config.httpPort) {
    // Hybrid: the protocol on the microservice transport, health and readiness over HTTP.
    const app = await NestFactory.create(PartyModule.forRoot(config), { logger });
    app.connectMicroservice(transport, { inheritAppConfig: true });
    app.enableShutdownHooks();
    await app.startAllMicroservices();
    await app.listen(config.httpPort, config.host);
  } else {
    const app = await NestFactory.createMicroservice(PartyModule.forRoot(config), { ...transport, logger });
    app.enableShutdownHooks();
    await app.listen();
  }
  const where = config.transport === 'nats' ? `NATS ${config.natsUrl}` : `tcp://${config.host}:${config.port}`;
  new Logger('Party').log(`party ${config.partyId} (${config.role}) listening on ${where}`);
}

bootstrap().catch((e) => {
  console.error(`party failed to start: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
