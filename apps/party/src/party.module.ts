/** Wires a PartyNode to its config, its peers, its own audit log and the transport's payload codec. */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { DynamicModule, Logger, Module, OnApplicationShutdown, Inject } from '@nestjs/common';
import { createPsiEngine, PsiEngine, ckksWorkerThreads, SigningIdentity } from '@vfl/crypto';
import { initTensorflow } from '@vfl/ml';
import { PartyNode, type StoredCheckpoint, type StoredPartyModel, partyHandlers } from '@vfl/protocol';
import { identityCodec, NatsClaimCheckCodec, NatsPsiEngine, PayloadCodec } from '@vfl/transport';
import { PartyAudit } from './party-audit';
import { PartyConfig } from './party.config';
import { PartyController } from './party.controller';
import { PartyHealthController } from './health.controller';
import { PeerClients } from './peer-clients';
import { RpcErrorFilter } from './rpc-error.filter';

const PSI_ENGINE = Symbol('PsiEngine');

@Module({})
export class PartyModule implements OnApplicationShutdown {
  constructor(
    @Inject(PayloadCodec) private readonly codec: PayloadCodec,
    @Inject(PSI_ENGINE) private readonly psiEngine: PsiEngine,
    private readonly audit: PartyAudit,
  ) {}

  static forRoot(config: PartyConfig): DynamicModule {
    return {
      module: PartyModule,
      controllers: [PartyController, PartyHealthController],
      providers: [
        { provide: PartyConfig, useValue: config },
        {
          provide: PayloadCodec,
          useFactory: () => (config.transport === 'nats' ? NatsClaimCheckCodec.connect(config.natsUrl) : identityCodec),
        },
        PeerClients,
        RpcErrorFilter,
        {
          provide: PSI_ENGINE,
          // VFL_PSI_WORKERS=nats: chunks go to psi-worker processes (scripts/psi-worker.ts) through JetStream.
          useFactory: () =>
            config.psiWorkers === 'nats' ? NatsPsiEngine.connect(config.natsUrl) : createPsiEngine(config.psiThreads),
        },
        {
          provide: SigningIdentity,
          useFactory: () => {
            if (config.signingKey) return SigningIdentity.fromSeedHex(config.partyId, config.signingKey);
            const identity = SigningIdentity.generate(config.partyId);
            new Logger('Party').warn(
              `no PARTY_SIGNING_KEY: signing with a key generated for this process (${identity.publicKeyHex})`,
            );
            return identity;
          },
        },
        {
          provide: PartyAudit,
          inject: [SigningIdentity],
          useFactory: (identity: SigningIdentity) => PartyAudit.open(config, identity),
        },
        {
          provide: PartyNode,
          inject: [PeerClients, PSI_ENGINE, SigningIdentity, PartyAudit],
          useFactory: async (
            peers: PeerClients,
            psiEngine: PsiEngine,
            identity: SigningIdentity,
            audit: PartyAudit,
          ) => {
            const tensorflow = await initTensorflow();
            new Logger('Party').log(
              `${config.partyId} (${config.role}) using ${tensorflow.description}; PSI on ${psiEngine.name}; CKKS on ${ckksWorkerThreads(config.ckksThreads) > 0 ? `${config.ckksThreads} worker threads` : 'the main thread'}`,
            );
            // Weights never leave the party: without VFL_MODEL_DIR they go under the working directory.
            const modelDir = config.modelDir ?? path.resolve('.vfl', 'models', config.partyId);
            const pinnedKeys = new Map(
              config.registry().flatMap((p) => (p.publicKey ? [[p.partyId, p.publicKey] as const] : [])),
            );
            if (!config.coordinatorKey)
              new Logger('Party').warn('no VFL_COORDINATOR_KEY: every coordinator command will be refused');
            return new PartyNode({
              partyId: config.partyId,
              role: config.role,
              identity,
              coordinatorKey: config.coordinatorKey,
              commandMaxAgeMs: config.commandMaxAgeMs,
              handlers: partyHandlers(),
              pinnedKeys,
              peers,
              psiEngine,
              tensorflow,
              dataRoot: config.dataRoot,
              saveModel: (jobId, model) => saveModel(modelDir, config.partyId, jobId, model),
              loadModel: (jobId) => loadModel(modelDir, config.partyId, jobId),
              // Results for this party's operator (a scorecard prediction's points), beside the models.
              saveOutput: (jobId, name, text) =>
                writeText(path.join(modelDir, 'outputs', `${jobIdForFile(jobId)}.${config.partyId}.${name}`), text),
              saveCheckpoint: (jobId, checkpoint) =>
                writeJson(checkpointFile(modelDir, config.partyId, jobId), checkpoint),
              loadCheckpoint: (jobId) => readJson<StoredCheckpoint>(checkpointFile(modelDir, config.partyId, jobId)),
              audit: audit.log,
              ckksThreads: config.ckksThreads,
            });
          },
        },
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.codec.close();
    await this.psiEngine.close();
    await this.audit.close();
  }
}

function saveModel(dir: string, partyId: string, jobId: string, model: StoredPartyModel): Promise<void> {
  return writeJson(modelFile(dir, partyId, jobId), model);
}

function loadModel(dir: string, partyId: string, jobId: string): Promise<StoredPartyModel | undefined> {
  return readJson<StoredPartyModel>(modelFile(dir, partyId, jobId));
}

/** Written to a temporary file and renamed: a crash mid-write leaves the previous file whole. */
async function writeJson(file: string, value: unknown): Promise<void> {
  await writeText(file, JSON.stringify(value, null, 2));
}

async function writeText(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, text, { mode: 0o600 });
  await fs.rename(tmp, file);
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function modelFile(dir: string, partyId: string, jobId: string): string {
  return path.join(dir, `${jobIdForFile(jobId)}.${partyId}.json`);
}

function checkpointFile(dir: string, partyId: string, jobId: string): string {
  return path.join(dir, `${jobIdForFile(jobId)}.${partyId}.checkpoint.json`);
}

/** Job ids are UUIDs; anything else would not name a file here. */
function jobIdForFile(jobId: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(jobId)) throw new Error(`not a job id: ${jobId.slice(0, 64)}`);
  return jobId;
}
