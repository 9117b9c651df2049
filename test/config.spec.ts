import { availableParallelism } from 'node:os';
import { PartyConfig } from '../apps/party/src/party.config';
import { CoordinatorConfig } from '../apps/coordinator/src/config/coordinator.config';
import { ConfigError, parsePartyRegistry } from '@vfl/config';

describe('config from the environment', () => {
  it('parses the party registry', () => {
    expect(parsePartyRegistry('bank@127.0.0.1:7101, ecommerce@shop.internal:7102')).toEqual([
      { partyId: 'bank', host: '127.0.0.1', port: 7101 },
      { partyId: 'ecommerce', host: 'shop.internal', port: 7102 },
    ]);
    expect(parsePartyRegistry(`bank@h:1#${'ab'.repeat(32)}`)).toEqual([
      { partyId: 'bank', host: 'h', port: 1, publicKey: 'ab'.repeat(32) },
    ]);
    expect(() => parsePartyRegistry('bank@127.0.0.1')).toThrow(
      'VFL_PARTIES entry "bank@127.0.0.1" is not of the form id@host:port',
    );
    expect(() => parsePartyRegistry('bank@h:1#abc')).toThrow(/is not of the form/);
  });

  it('fills defaults and types values', () => {
    const c = PartyConfig.fromEnv({ PARTY_ID: 'bank', PARTY_ROLE: 'label', PARTY_PORT: '7200' });
    expect(c).toMatchObject({ partyId: 'bank', role: 'label', port: 7200, host: '127.0.0.1', transport: 'tcp' });
    expect(c.psiThreads).toBe(availableParallelism());
    expect(PartyConfig.fromEnv({ PARTY_ID: 'bank', PARTY_ROLE: 'label', VFL_PSI_THREADS: '1' }).psiThreads).toBe(1);
    expect(c.ckksThreads).toBe(availableParallelism());
    expect(PartyConfig.fromEnv({ PARTY_ID: 'bank', PARTY_ROLE: 'label', VFL_CKKS_THREADS: '0' }).ckksThreads).toBe(0);
  });

  it('refuses to start on a bad value, naming the variable', () => {
    expect(() => PartyConfig.fromEnv({ PARTY_ID: 'bank', PARTY_ROLE: 'owner' })).toThrow(ConfigError);
    expect(() => PartyConfig.fromEnv({ PARTY_ID: 'bank', PARTY_ROLE: 'owner' })).toThrow(/role="owner"/);
    expect(() => PartyConfig.fromEnv({ PARTY_ID: 'bank', PARTY_ROLE: 'label', VFL_TRANSPORT: 'kafka' })).toThrow(
      /transport/,
    );
    expect(() => CoordinatorConfig.fromEnv({ PORT: 'eighty', VFL_PARTIES: 'bank@h:1' })).toThrow(/port/);
    expect(() => CoordinatorConfig.fromEnv({})).toThrow(/parties/);
    expect(() => PartyConfig.fromEnv({ PARTY_ID: 'bank', PARTY_ROLE: 'label', VFL_PSI_THREADS: '0' })).toThrow(
      /psiThreads/,
    );
    expect(() => PartyConfig.fromEnv({ PARTY_ID: 'bank', PARTY_ROLE: 'label', VFL_CKKS_THREADS: '-1' })).toThrow(
      /ckksThreads/,
    );
  });
});
