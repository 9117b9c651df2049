/**
 * Stores and checks API keys. At start-up it makes sure an admin can get in: VFL_ADMIN_KEY is
 * registered as an admin key if it is not yet, and without it, when no active admin key exists,
 * one is generated and printed once.
 */
import { Injectable, Logger, NotFoundException, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { hashSecret, issueApiKey, parseApiKey, Role, secretMatches } from '@vfl/access';
import { ApiKeyEntity } from '@vfl/database';
import { CoordinatorConfig } from '../config/coordinator.config';
import type { Principal } from './principal';

/** How long a checked key is trusted without a query (other coordinator instances see a revocation after this). */
const KEY_CACHE_MS = 5_000;

export interface ApiKeyView {
  readonly keyId: string;
  readonly name: string;
  readonly role: Role;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

@Injectable()
export class ApiKeysService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ApiKeysService.name);
  /** Recently checked keys, so a busy client costs no query per request; revoke() drops its entry. */
  private readonly recent = new Map<string, { row: ApiKeyEntity; until: number }>();

  constructor(
    @InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>,
    private readonly config: CoordinatorConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.adminKey) {
      const parsed = parseApiKey(this.config.adminKey)!;
      const existing = await this.keys.findOneBy({ keyId: parsed.keyId });
      if (!existing) {
        await this.keys.insert({
          keyId: parsed.keyId,
          name: 'bootstrap-admin',
          role: 'admin',
          secretHash: hashSecret(parsed.secret),
          revokedAt: null,
        });
      }
      return;
    }
    if ((await this.keys.countBy({ role: 'admin', revokedAt: IsNull() })) === 0) {
      const { key } = await this.create('bootstrap-admin', 'admin');
      // Printed once, on purpose: it is the only way in on a fresh installation without VFL_ADMIN_KEY.
      this.logger.warn(
        `no VFL_ADMIN_KEY and no admin key yet: created admin API key ${key} (store it now; it is not shown again)`,
      );
    }
  }

  /** @returns the caller, or null for a missing, malformed, unknown, wrong or revoked key. */
  async authenticate(presented: string | undefined): Promise<Principal | null> {
    const parsed = presented ? parseApiKey(presented) : null;
    if (!parsed) return null;
    const cached = this.recent.get(parsed.keyId);
    let row = cached && cached.until > Date.now() ? cached.row : null;
    if (!row) {
      row = await this.keys.findOneBy({ keyId: parsed.keyId });
      if (row) this.recent.set(parsed.keyId, { row, until: Date.now() + KEY_CACHE_MS });
    }
    if (!row || row.revokedAt || !secretMatches(parsed.secret, row.secretHash)) return null;
    return { keyId: row.keyId, name: row.name, role: row.role };
  }

  async create(name: string, role: Role): Promise<ApiKeyView & { key: string }> {
    const issued = issueApiKey();
    await this.keys.insert({ keyId: issued.keyId, name, role, secretHash: issued.secretHash, revokedAt: null });
    const row = await this.keys.findOneByOrFail({ keyId: issued.keyId });
    return { ...view(row), key: issued.key };
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.keys.find({ order: { createdAt: 'ASC' } })).map(view);
  }

  async revoke(keyId: string): Promise<ApiKeyView> {
    const row = await this.keys.findOneBy({ keyId });
    if (!row) throw new NotFoundException(`API key ${keyId} does not exist`);
    if (!row.revokedAt) await this.keys.update({ keyId }, { revokedAt: new Date() });
    this.recent.delete(keyId);
    return view(await this.keys.findOneByOrFail({ keyId }));
  }
}

function view(row: ApiKeyEntity): ApiKeyView {
  return { keyId: row.keyId, name: row.name, role: row.role, createdAt: row.createdAt, revokedAt: row.revokedAt };
}
