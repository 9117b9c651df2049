import { Module } from '@nestjs/common';
import { DashboardController } from './dashboard.controller';

/** Serves the static web dashboard at GET /dashboard; its data comes from the JSON API. */
@Module({ controllers: [DashboardController] })
export class DashboardModule {}
