/** Every protocol command and peer message type has a handler on the party service. */
import 'reflect-metadata';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { PartyController } from '../apps/party/src/party.controller';
import { Commands, PeerTypes } from '../libs/protocol/src/messages';

it('routes every command and peer message type', () => {
  const proto = PartyController.prototype as unknown as Record<string, unknown>;
  const patterns = Object.getOwnPropertyNames(proto).flatMap((name) => (Reflect.getMetadata(PATTERN_METADATA, proto[name] as object) as string[] | undefined) ?? []);
  expect(new Set(patterns)).toEqual(new Set([...Object.values(Commands), ...Object.values(PeerTypes)]));
});
