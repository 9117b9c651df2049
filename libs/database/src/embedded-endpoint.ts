/**
 * Where a running service's embedded database can be reached: the coordinator records its
 * loopback URL (with the password drawn at start) in `database.json` beside its PGlite directory,
 * readable by its user only, and removes it on shutdown; `vfl audit verify` with no flags reads it
 * (`npm start` keeps PGlite in .vfl/pgdata, so the record is .vfl/database.json). When no service
 * runs, the CLI opens the PGlite directory itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface EmbeddedEndpointRecord {
  readonly url: string;
  readonly pid: number;
  readonly pgliteDir: string;
}

export function endpointRecordPath(pgliteDir: string): string {
  return path.join(path.dirname(path.resolve(pgliteDir)), 'database.json');
}

export function writeEndpointRecord(pgliteDir: string, url: string): string {
  const file = endpointRecordPath(pgliteDir);
  const record: EmbeddedEndpointRecord = { url, pid: process.pid, pgliteDir: path.resolve(pgliteDir) };
  fs.writeFileSync(file, JSON.stringify(record) + '\n', { mode: 0o600 });
  return file;
}

/** Removes the record if it is this process's. */
export function removeEndpointRecord(pgliteDir: string): void {
  const record = readEndpointRecord(pgliteDir);
  if (record?.pid === process.pid) fs.rmSync(endpointRecordPath(pgliteDir), { force: true });
}

/** The record of a live service, or undefined (none, unreadable, or its process is gone). */
export function readEndpointRecord(pgliteDir: string): EmbeddedEndpointRecord | undefined {
  let record: EmbeddedEndpointRecord;
  try {
    record = JSON.parse(fs.readFileSync(endpointRecordPath(pgliteDir), 'utf8')) as EmbeddedEndpointRecord;
  } catch {
    return undefined;
  }
  if (typeof record?.url !== 'string' || !Number.isInteger(record.pid)) return undefined;
  try {
    process.kill(record.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
  }
  return record;
}
