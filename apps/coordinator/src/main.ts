/**
 * The coordinator: REST API for jobs, CKKS key holder and masked-decryption service, protocol
 * orchestration, audit writer. Configured by environment (see CoordinatorConfig).
 */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createCoordinatorApp } from './bootstrap';
import { CoordinatorConfig } from './config/coordinator.config';
import { DatabaseEndpoint } from './database/database.module';

async function bootstrap(): Promise<void> {
  const config = CoordinatorConfig.fromEnv();
  const app = await createCoordinatorApp(config);
  await app.listen(config.port, config.host);
  const url = await app.getUrl();
  new Logger('Coordinator').log(
    `listening on ${url} (API docs at ${url}/docs), audit in ${app.get(DatabaseEndpoint).description}`,
  );
}

bootstrap().catch((e) => {
  console.error(`coordinator failed to start: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
