/**
 * The coordinator's typed, signed line to one party: `call(command, body)` signs the body, hands
 * it to a transport (Nest TCP or NATS in the services, a function call in one process) and checks
 * the reply against the command's schema before anyone reads it.
 */
import { z } from 'zod';
import type { SigningIdentity } from '@vfl/crypto';
import { checked, Command } from './command';
import { messageReceipt, MessageReceipt } from './peer-envelope';
import { signCommand, SignedCommand } from './signed-command';

export interface CommandResult<Reply> {
  readonly reply: Reply;
  /** The peer messages the party sent while serving the command (the coordinator audits them). */
  readonly messages: readonly MessageReceipt[];
}

export interface PartyChannel {
  readonly partyId: string;
  call<Q, P>(command: Command<Q, P>, body: Q): Promise<CommandResult<P>>;
}

/** Delivers a signed command to the party and returns its reply as decoded off the wire. */
export type CommandTransport = (command: SignedCommand) => Promise<unknown>;

/** A party's answer to any command: built once, as zod compiles each object schema on first use. */
const outcome = z.object({ reply: z.unknown(), messages: z.array(messageReceipt).max(100_000) });

export function signedPartyChannel(
  partyId: string,
  coordinator: SigningIdentity,
  transport: CommandTransport,
): PartyChannel {
  return {
    partyId,
    async call<Q, P>(command: Command<Q, P>, body: Q): Promise<CommandResult<P>> {
      const raw = await transport(signCommand(coordinator, partyId, command.name, body as object));
      const envelope = checked(outcome, raw, `${partyId}'s reply to ${command.name}`);
      return {
        reply: checked(command.reply, envelope.reply, `${partyId}'s reply to ${command.name}`),
        messages: envelope.messages,
      };
    },
  };
}
