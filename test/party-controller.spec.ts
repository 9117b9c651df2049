/** The party service takes two patterns: signed coordinator commands and peer envelopes; the PartyNode routes the rest. */
import 'reflect-metadata';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { PartyController } from '../apps/party/src/party.controller';
import { PARTY_COMMAND_PATTERN, PARTY_PEER_PATTERN } from '@vfl/protocol';

it('routes signed commands and peer envelopes, each on one pattern', () => {
  const proto = PartyController.prototype;
  const patterns = Object.getOwnPropertyNames(proto).flatMap(
    (name) => (Reflect.getMetadata(PATTERN_METADATA, (proto as never)[name] as object) as string[] | undefined) ?? [],
  );
  expect(new Set(patterns)).toEqual(new Set([PARTY_COMMAND_PATTERN, PARTY_PEER_PATTERN]));
});
