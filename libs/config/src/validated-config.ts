/**
 * Environment -> typed, validated config class, once at boot. An app refuses to start on a bad
 * value, and the error names every offending variable.
 */
import 'reflect-metadata';
import { Expose, plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Min, validateSync, ValidationError } from 'class-validator';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function loadConfig<T extends object>(cls: new () => T, env: Record<string, string | undefined>): T {
  const instance = plainToInstance(cls, env, { enableImplicitConversion: true, excludeExtraneousValues: true });
  const errors = validateSync(instance, { skipMissingProperties: false });
  if (errors.length > 0) throw new ConfigError(`invalid configuration: ${describe(errors)}`);
  return instance;
}

/** What a @Transform sees of an environment variable: its text, or undefined when unset. */
export interface EnvValue {
  readonly value?: string;
}

function describe(errors: ValidationError[]): string {
  return errors
    .map((e) => `${e.property}=${JSON.stringify(e.value)}: ${Object.values(e.constraints ?? {}).join(', ')}`)
    .join('; ');
}

export interface PartyEndpoint {
  readonly partyId: string;
  readonly host: string;
  readonly port: number;
  /** The party's ed25519 public key (hex), when pinned. */
  readonly publicKey?: string;
}

/**
 * Parses the party registry, `bank@127.0.0.1:7101,ecommerce@127.0.0.1:7102`, where each entry may
 * pin the party's signing key: `bank@127.0.0.1:7101#<64 hex>`.
 * @throws ConfigError naming the malformed entry.
 */
export function parsePartyRegistry(value: string): PartyEndpoint[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^([A-Za-z0-9_-]+)@([^:@#]+):(\d{1,5})(?:#([0-9a-f]{64}))?$/.exec(entry);
      if (!m)
        throw new ConfigError(
          `VFL_PARTIES entry "${entry}" is not of the form id@host:port or id@host:port#<64 hex public key>`,
        );
      return m[4]
        ? { partyId: m[1], host: m[2], port: Number(m[3]), publicKey: m[4] }
        : { partyId: m[1], host: m[2], port: Number(m[3]) };
    });
}

/** What every service shares: how it reaches the others, how it logs, how often it signs its audit heads. Each app's config extends it. */
export class ServiceTransportConfig {
  @Expose({ name: 'VFL_TRANSPORT' })
  @Transform(({ value }: EnvValue) => value ?? 'tcp')
  @IsIn(['tcp', 'nats'])
  transport!: 'tcp' | 'nats';

  @Expose({ name: 'NATS_URL' })
  @Transform(({ value }: EnvValue) => value ?? 'nats://127.0.0.1:4222')
  @IsString()
  natsUrl!: string;

  /** `json` writes one JSON object per log line (for log shippers); `text` is for people. */
  @Expose({ name: 'VFL_LOG_FORMAT' })
  @Transform(({ value }: EnvValue) => value ?? 'text')
  @IsIn(['text', 'json'])
  logFormat!: 'text' | 'json';

  /**
   * Where this service keeps its audit records: a PostgreSQL database of its own (a party's log
   * never shares the coordinator's database). Unset, an embedded PGlite is started.
   */
  @Expose({ name: 'DATABASE_URL' })
  @IsOptional()
  @IsString()
  databaseUrl?: string;

  /** Where the embedded PostgreSQL keeps its files; unset, it lives in memory. */
  @Expose({ name: 'VFL_PGLITE_DIR' })
  @IsOptional()
  @IsString()
  pgliteDir?: string;

  /**
   * How often a service signs the heads of audit chains that grew since their last signature
   * (besides at every job state change, or job close at a party); 0 turns the timer off.
   */
  @Expose({ name: 'VFL_AUDIT_SIGN_INTERVAL_MS' })
  @Transform(({ value }) => (value === undefined ? 30_000 : Number(value)))
  @IsInt()
  @Min(0)
  auditSignIntervalMs!: number;

  /** The parties: `id@host:port[#publicKey],...` (ports are ignored under NATS). */
  @Expose({ name: 'VFL_PARTIES' })
  @IsString()
  parties!: string;

  registry(): PartyEndpoint[] {
    return parsePartyRegistry(this.parties);
  }
}
