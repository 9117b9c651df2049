/** The party service's configuration, from the environment, validated at boot. */
import { availableParallelism } from 'node:os';
import { Expose, Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { loadConfig, ServiceTransportConfig, type EnvValue } from '@vfl/config';
import type { PartyRole } from '@vfl/protocol';

export class PartyConfig extends ServiceTransportConfig {
  @Expose({ name: 'PARTY_ID' })
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'PARTY_ID must be 1-64 letters, digits, _ or -' })
  partyId!: string;

  @Expose({ name: 'PARTY_ROLE' })
  @IsIn(['label', 'feature'])
  role!: PartyRole;

  @Expose({ name: 'PARTY_HOST' })
  @Transform(({ value }: EnvValue) => value ?? '127.0.0.1')
  @IsString()
  host!: string;

  @Expose({ name: 'PARTY_PORT' })
  @Transform(({ value }) => (value === undefined ? 7101 : Number(value)))
  @IsInt()
  @Min(1)
  @Max(65535)
  port!: number;

  /** When set, GET /health and GET /ready are served over HTTP on this port. */
  @Expose({ name: 'PARTY_HTTP_PORT' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  httpPort?: number;

  /** Data references must resolve inside this directory. */
  @Expose({ name: 'VFL_DATA_ROOT' })
  @IsOptional()
  @IsString()
  dataRoot?: string;

  /** Where this party keeps its own trained weights (default: .vfl/models/<PARTY_ID>). */
  @Expose({ name: 'VFL_MODEL_DIR' })
  @IsOptional()
  @IsString()
  modelDir?: string;

  /** 64 hex characters: the seed of this party's ed25519 signing key. Unset, one is generated. */
  @Expose({ name: 'PARTY_SIGNING_KEY' })
  @Transform(({ value }: EnvValue) => (value === '' ? undefined : value))
  @IsOptional()
  @Matches(/^[0-9a-fA-F]{64}$/, { message: 'PARTY_SIGNING_KEY must be 64 hex characters (an ed25519 seed)' })
  signingKey?: string;

  /**
   * The coordinator's ed25519 public key (64 hex; the coordinator logs it at start): every command
   * must be signed by it. Unset, the party starts but refuses every command (GET /ready says why).
   */
  @Expose({ name: 'VFL_COORDINATOR_KEY' })
  @Transform(({ value }: EnvValue) => (value === '' ? undefined : value))
  @IsOptional()
  @Matches(/^[0-9a-f]{64}$/, {
    message: 'VFL_COORDINATOR_KEY must be 64 lowercase hex characters (an ed25519 public key)',
  })
  coordinatorKey?: string;

  /** How old (or how far ahead of this party's clock) a coordinator command may be. */
  @Expose({ name: 'VFL_COMMAND_MAX_AGE_MS' })
  @Transform(({ value }) => (value === undefined ? 300_000 : Number(value)))
  @IsInt()
  @Min(1000)
  commandMaxAgeMs!: number;

  /** Deadline for one call to another party. */
  @Expose({ name: 'VFL_PEER_TIMEOUT_MS' })
  @Transform(({ value }) => (value === undefined ? 600_000 : Number(value)))
  @IsInt()
  @Min(100)
  peerTimeoutMs!: number;

  /** Worker threads for PSI's group operations (default: one per core; 1 runs them inline). */
  @Expose({ name: 'VFL_PSI_THREADS' })
  @Transform(({ value }) => (value === undefined ? availableParallelism() : Number(value)))
  @IsInt()
  @Min(1)
  @Max(256)
  psiThreads!: number;

  /** Where PSI's group operations run: `local` worker threads, or `nats` worker processes pulling a JetStream work queue. */
  @Expose({ name: 'VFL_PSI_WORKERS' })
  @Transform(({ value }) => (value === undefined ? 'local' : String(value)))
  @IsIn(['local', 'nats'])
  psiWorkers!: 'local' | 'nats';

  /** Worker threads for a split-LR job's CKKS work (default: one per core; 0 runs it inline). */
  @Expose({ name: 'VFL_CKKS_THREADS' })
  @Transform(({ value }) => (value === undefined ? availableParallelism() : Number(value)))
  @IsInt()
  @Min(0)
  @Max(256)
  ckksThreads!: number;

  static fromEnv(env: Record<string, string | undefined> = process.env): PartyConfig {
    // Under NATS a party needs no addresses, so an empty registry is allowed here.
    const config = loadConfig(PartyConfig, { VFL_PARTIES: '', ...env });
    config.registry();
    return config;
  }
}
