/**
 * The web dashboard: one static page, its ES modules (js/, one per panel under js/panels/) and
 * stylesheet, and chart.js from node_modules. These routes are public because they carry no data;
 * the page asks for an API key and reads everything through the authenticated JSON API, like any
 * other client. There is no build step: the files under static/ are what the browser runs
 * (docs/dashboard.md says why).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Controller, Get, Header, NotFoundException, Param } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/roles.decorator';

// build copies static/ next to the compiled controller, so this works from dist/ and from source.
const STATIC_DIR = path.join(__dirname, 'static');
// chart.js exports no ./dist/* subpaths; its main entry sits in dist/ beside the UMD build.
const CHART_JS = path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');

/** Same-origin only: no inline script or style, no other hosts; the page talks to this API alone. */
const PAGE_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// Read once at start-up: a few hundred kB, and a missing file fails the boot, not a request.
const read = (file: string) => fs.readFileSync(file, 'utf8');

/** Every module under static/js, by its path below js/ ("main.js", "panels/audit.js"). */
function readModules(dir: string, prefix = ''): Map<string, string> {
  const modules = new Map<string, string>();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const name = `${prefix}${entry.name}`;
    if (entry.isDirectory())
      for (const [k, v] of readModules(path.join(dir, entry.name), `${name}/`)) modules.set(k, v);
    else if (entry.name.endsWith('.js')) modules.set(name, read(path.join(dir, entry.name)));
  }
  return modules;
}

const ASSETS = {
  page: read(path.join(STATIC_DIR, 'index.html')),
  style: read(path.join(STATIC_DIR, 'dashboard.css')),
  modules: readModules(path.join(STATIC_DIR, 'js')),
  chart: read(CHART_JS),
};

function moduleSource(name: string): string {
  const source = ASSETS.modules.get(name);
  if (source === undefined) throw new NotFoundException(`no dashboard module js/${name}`);
  return source;
}

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

  @Get('js/:file')
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'no-cache')
  module(@Param('file') file: string): string {
    return moduleSource(file);
  }

  @Get('js/panels/:file')
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'no-cache')
  panel(@Param('file') file: string): string {
    return moduleSource(`panels/${file}`);
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
