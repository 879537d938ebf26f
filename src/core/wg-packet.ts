// What a WireGuard datagram looks like from outside, for the ciphertext relay: the message type
// in the first byte, three reserved zero bytes, and a length fixed by the type (transport data:
// a 16-byte header and a 16-byte tag around the ciphertext, at least 32 bytes). Pure; nothing is
// decrypted. HAZARD: WireGuard pads the plaintext to 16 bytes only up to the interface MTU, so a
// full-size data packet (MTU 1420: 1452 bytes) is not a multiple of 16: do not require that.

export const WG_HANDSHAKE_INITIATION = 1;
export const WG_HANDSHAKE_RESPONSE = 2;
export const WG_COOKIE_REPLY = 3;
export const WG_TRANSPORT_DATA = 4;

const FIXED: Record<number, number> = { [WG_HANDSHAKE_INITIATION]: 148, [WG_HANDSHAKE_RESPONSE]: 92, [WG_COOKIE_REPLY]: 64 };
/** The largest datagram the relay passes: a 65,535-byte IP packet less its headers. */
export const WG_MAX_DATAGRAM = 65_507;

/** The WireGuard message type of `b` (1-4) when it is shaped like one, else 0. */
export function wireGuardType(b: Uint8Array): number {
  if (b.length < 32 || b[1] !== 0 || b[2] !== 0 || b[3] !== 0) return 0;
  const type = b[0]!;
  if (type === WG_TRANSPORT_DATA) return b.length <= WG_MAX_DATAGRAM ? type : 0;
  return FIXED[type] === b.length ? type : 0;
}
