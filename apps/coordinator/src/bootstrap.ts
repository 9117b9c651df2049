/** Builds the coordinator app (shared by main.ts and the e2e tests). */
import { ConsoleLogger, INestApplication, ValidationPipe } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { AppModule } from './app.module';
import { CoordinatorConfig } from './config/coordinator.config';
import { JsonBodyShapePipe } from './http/json-body.pipe';
import { answerBodyParserErrors, requireJsonBodies } from './http/json-only';
import { SafeErrorFilter } from './http/safe-error.filter';

export async function createCoordinatorApp(config: CoordinatorConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger:
      config.logFormat === 'json'
        ? new ConsoleLogger({ json: true, logLevels: ['error', 'warn', 'log'] })
        : ['error', 'warn', 'log'],
  });
  // A prediction request carries up to 100,000 IDs: past express's 100 kB default, refused (413) past 8 MB.
  app.useBodyParser('json', { limit: '8mb' });
  // Standard security headers (nosniff, frame and referrer policy, HSTS, a same-origin CSP that
  // the dashboard tightens on its own page), and no X-Powered-By naming the framework.
  app.disable('x-powered-by');
  // The API is also served over plain HTTP (docker-compose, loopback): no upgrade-insecure-requests.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  // JSON only (415 otherwise); then a body's depth and NUL bytes are checked before validation recurses into it.
  app.use(answerBodyParserErrors, requireJsonBodies);
  app.useGlobalPipes(
    new JsonBodyShapePipe(),
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  app.useGlobalFilters(new SafeErrorFilter(app.get(HttpAdapterHost).httpAdapter));
  app.enableShutdownHooks();
  // Idle keep-alive connections outlive any client's own idle timeout (undici: 4 s), so a client
  // never reuses a socket the server is closing at that moment ("other side closed"): a client
  // whose event loop was blocked past 5 s (Node's default here) hit exactly that.
  const server = app.getHttpServer();
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('VFL coordinator')
      .setDescription(
        'Vertical federated learning jobs: PSI alignment, split logistic regression under CKKS, audit trail',
      )
      .setVersion('0.1.0')
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
  return app;
}
