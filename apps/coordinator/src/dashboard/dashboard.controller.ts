/**
 * The web dashboard: one static page, its script and stylesheet, and chart.js from node_modules.
 * These routes are public because they carry no data; the page asks for an API key and reads
 * everything through the authenticated JSON API, like any other client.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/roles.decorator';

// build copies static/ next to the compiled controller, so this works from dist/ and from source.
const STATIC_DIR = path.join(__dirname, 'static');
// chart.js exports no ./dist/* subpaths; its main entry sits in dist/ beside the UMD build.
const CHART_JS = path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');

/** Same-origin only: no inline script, no other hosts; the page talks to this API alone. */
const PAGE_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// Read once at start-up: a few hundred kB, and a missing file fails the boot, not a request.
const read = (file: string) => fs.readFileSync(file, 'utf8');
const ASSETS = {
  page: read(path.join(STATIC_DIR, 'index.html')),
  script: read(path.join(STATIC_DIR, 'dashboard.js')),
  style: read(path.join(STATIC_DIR, 'dashboard.css')),
  chart: read(CHART_JS),
};

@ApiTags('dashboard')
@Public()
@Controller('dashboard')
export class DashboardController {
  @Get()
  @ApiOperation({ summary: 'The web dashboard (static page; it asks for an API key and uses this API)' })
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', PAGE_POLICY)
  @Header('cache-control', 'no-cache')
  page(): string {
    return ASSETS.page;
  }

  @Get('dashboard.js')
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'no-cache')
  script(): string {
    return ASSETS.script;
  }

  @Get('dashboard.css')
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'no-cache')
  style(): string {
    return ASSETS.style;
  }

  @Get('vendor/chart.umd.min.js')
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=86400')
  chart(): string {
    return ASSETS.chart;
  }
}
