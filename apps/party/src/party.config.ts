/** The party service's configuration, from the environment, validated at boot. */
import { Expose, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { loadConfig, parsePartyRegistry, PartyEndpoint } from '../../../libs/config/src/validated-config';
import type { PartyRole } from '../../../libs/protocol/src/messages';
import type { TransportKind } from '../../../libs/transport/src/transport-options';

export class PartyConfig {
  @Expose({ name: 'PARTY_ID' })
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'PARTY_ID must be 1-64 letters, digits, _ or -' })
  partyId!: string;

  @Expose({ name: 'PARTY_ROLE' })
  @IsIn(['label', 'feature'])
  role!: PartyRole;

  @Expose({ name: 'PARTY_HOST' })
  @Transform(({ value }) => value ?? '127.0.0.1')
  @IsString()
  host!: string;

  @Expose({ name: 'PARTY_PORT' })
  @Transform(({ value }) => (value === undefined ? 7101 : Number(value)))
  @IsInt()
  @Min(1)
  @Max(65535)
  port!: number;

  @Expose({ name: 'VFL_TRANSPORT' })
  @Transform(({ value }) => value ?? 'tcp')
  @IsIn(['tcp', 'nats'])
  transport!: TransportKind;

  @Expose({ name: 'NATS_URL' })
  @Transform(({ value }) => value ?? 'nats://127.0.0.1:4222')
  @IsString()
  natsUrl!: string;

  /** Other parties this one may talk to: `id@host:port,...` (ports are ignored under NATS). */
  @Expose({ name: 'VFL_PARTIES' })
  @Transform(({ value }) => value ?? '')
  @IsString()
  parties!: string;

  /** Data references must resolve inside this directory. */
  @Expose({ name: 'VFL_DATA_ROOT' })
  @IsOptional()
  @IsString()
  dataRoot?: string;

  /** Where this party keeps its own trained weights. */
  @Expose({ name: 'VFL_MODEL_DIR' })
  @IsOptional()
  @IsString()
  modelDir?: string;

  /** Deadline for one call to another party. */
  @Expose({ name: 'VFL_PEER_TIMEOUT_MS' })
  @Transform(({ value }) => (value === undefined ? 600_000 : Number(value)))
  @IsInt()
  @Min(100)
  peerTimeoutMs!: number;

  registry(): PartyEndpoint[] {
    return parsePartyRegistry(this.parties);
  }

  static fromEnv(env: Record<string, string | undefined> = process.env): PartyConfig {
    const config = loadConfig(PartyConfig, env);
    config.registry();
    return config;
  }
}
