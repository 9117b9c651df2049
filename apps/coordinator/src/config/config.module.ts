import { DynamicModule, Global, Module } from '@nestjs/common';
import { CoordinatorConfig } from './coordinator.config';

/** Makes the validated CoordinatorConfig injectable everywhere. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: CoordinatorConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: CoordinatorConfig, useValue: config }],
      exports: [CoordinatorConfig],
    };
  }
}
