/** The coordinator's configuration, from the environment, validated at boot. */
import { Expose, Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { loadConfig, ServiceTransportConfig, type EnvValue } from '@vfl/config';

export class CoordinatorConfig extends ServiceTransportConfig {
  @Expose({ name: 'PORT' })
  @Transform(({ value }) => (value === undefined ? 8080 : Number(value)))
  @IsInt()
  @Min(0)
  @Max(65535)
  port!: number;

  @Expose({ name: 'HOST' })
  @Transform(({ value }: EnvValue) => value ?? '127.0.0.1')
  @IsString()
  host!: string;

  /** 64 hex characters: the seed of the ed25519 key that signs audit chain heads and every command to a party. */
  @Expose({ name: 'VFL_SIGNING_KEY' })
  @Transform(({ value }: EnvValue) => (value === '' ? undefined : value))
  @IsOptional()
  @Matches(/^[0-9a-fA-F]{64}$/, { message: 'VFL_SIGNING_KEY must be 64 hex characters (an ed25519 seed)' })
  signingKey?: string;

  /**
   * Where the signing key is kept when VFL_SIGNING_KEY is unset (`coordinator.key`, mode 0600,
   * created on first start) and the keys it replaced (`coordinator.trusted`). Default: `.vfl` in
   * the working directory.
   */
  @Expose({ name: 'VFL_KEY_DIR' })
  @Transform(({ value }: EnvValue) => (value === undefined || value === '' ? '.vfl' : value))
  @IsString()
  keyDir!: string;

  /** The first admin API key (`vfl_<12 hex>_<43 base64url>`); unset, one is generated and printed once. */
  @Expose({ name: 'VFL_ADMIN_KEY' })
  @IsOptional()
  @Matches(/^vfl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/, {
    message: 'VFL_ADMIN_KEY must look like vfl_<12 hex>_<43 base64url characters>',
  })
  adminKey?: string;

  /** Jobs that run at once; more wait in a first-come, first-served queue. */
  @Expose({ name: 'VFL_MAX_CONCURRENT_JOBS' })
  @Transform(({ value }) => (value === undefined ? 2 : Number(value)))
  @IsInt()
  @Min(1)
  @Max(64)
  maxConcurrentJobs!: number;

  /** Deadline for one command to a party. */
  @Expose({ name: 'VFL_PARTY_TIMEOUT_MS' })
  @Transform(({ value }) => (value === undefined ? 600_000 : Number(value)))
  @IsInt()
  @Min(100)
  partyTimeoutMs!: number;

  /**
   * Deadline for a party's whole PSI exchange (10M IDs take most of an hour on 2 cores). A peer
   * that stalls is caught sooner: each chunk is one peer call under the party's VFL_PEER_TIMEOUT_MS.
   */
  @Expose({ name: 'VFL_PSI_TIMEOUT_MS' })
  @Transform(({ value }) => (value === undefined ? 6 * 3_600_000 : Number(value)))
  @IsInt()
  @Min(100)
  psiTimeoutMs!: number;

  static fromEnv(env: Record<string, string | undefined> = process.env): CoordinatorConfig {
    const config = loadConfig(CoordinatorConfig, env);
    config.registry();
    return config;
  }
}
