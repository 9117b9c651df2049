/**
 * npm's `prepare` step (after `npm ci` / `npm install`): builds dist/ once, so that `npx vfl` works
 * right after install. Skipped where there is nothing to build with: no sources (a Docker layer that
 * copied package.json only) or no TypeScript (a production install), or when dist/ is there already.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.join(__dirname, '..', '..');
const has = (p) => fs.existsSync(path.join(root, p));
if (has('dist/scripts/vfl.js') || !has('libs') || !has('node_modules/typescript')) process.exit(0);
console.log('prepare: building dist/ once (npm run build) so that `npx vfl` runs without rebuilding');
const npm = process.env.npm_execpath;
const run = npm
  ? spawnSync(process.execPath, [npm, 'run', '-s', 'build'], { cwd: root, stdio: 'inherit' })
  : spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(run.status ?? 1);
