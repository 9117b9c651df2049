#!/usr/bin/env node
/**
 * `npx vfl …` (the package's bin): runs the compiled CLI (dist/scripts/vfl.js) without rebuilding.
 * `npm ci` builds it once (scripts/prepare.js); when it is missing, this says how to build it.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const compiled = path.join(__dirname, '..', 'dist', 'scripts', 'vfl.js');
if (!fs.existsSync(compiled)) {
  console.error('vfl: the CLI is not built yet (no dist/scripts/vfl.js): run "npm run build" once, then "npx vfl …"');
  process.exit(2);
}
require(compiled);
