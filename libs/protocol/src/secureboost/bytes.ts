/** Typed arrays to message bytes and back (little-endian, as the platform is), checked on the way in. */
import { PartyError } from '../party/party-error';

export function u64ToBytes(values: BigUint64Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export function bytesToU64(bytes: Uint8Array, what: string): BigUint64Array {
  if (bytes.length % 8 !== 0) throw new PartyError(`${what}: expected 8-byte integers`);
  return new BigUint64Array(new Uint8Array(bytes).buffer);
}

export function int32ToBytes(values: Int32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export function bytesToInt32(bytes: Uint8Array, what: string): Int32Array {
  if (bytes.length % 4 !== 0) throw new PartyError(`${what}: expected 4-byte integers`);
  return new Int32Array(new Uint8Array(bytes).buffer);
}
