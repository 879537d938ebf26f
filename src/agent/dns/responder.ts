// One DNS message in, one out: decodes with dns-packet, answers from the zones (core), encodes.
// Anything that does not decode, or is not a query, is dropped (null): never an answer to junk.
import * as packet from 'dns-packet';
import { answer, type Rcode, type ZoneSet } from '../../core/dns-answer.ts';

const RCODE = { NOERROR: 0, FORMERR: 1, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** The largest UDP answer sent to a query without EDNS (RFC 1035). */
const PLAIN_UDP_MAX = 512;
/** What we announce and honour with EDNS (the DNS flag day 2020 figure). */
const EDNS_UDP_MAX = 1232;

export interface RespondCounters {
  answered: number;
  dropped: number;
  nxdomain: number;
  refused: number;
}

export const newCounters = (): RespondCounters => ({ answered: 0, dropped: 0, nxdomain: 0, refused: 0 });

type Decoded = packet.Packet & { opcode?: string; flags?: number };

/** Encoded answers by question, valid while the zones do not change. Encoding is most of the cost
 * of an answer (more than decoding the query), and the names asked for repeat. Bounded: emptied
 * when full, and whenever a zone changes. */
export class AnswerCache {
  private generation = -1;
  private readonly map = new Map<string, { buf: Buffer; rcode: Rcode }>();
  private readonly max: number;
  constructor(max = 4096) {
    this.max = max;
  }

  get(zones: ZoneSet, key: string): { buf: Buffer; rcode: Rcode } | undefined {
    if (zones.generation !== this.generation) {
      this.map.clear();
      this.generation = zones.generation;
    }
    return this.map.get(key);
  }

  set(key: string, v: { buf: Buffer; rcode: Rcode }): void {
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, v);
  }
}

function count(counters: RespondCounters | undefined, rcode: Rcode): void {
  if (!counters) return;
  counters.answered++;
  if (rcode === 'NXDOMAIN') counters.nxdomain++;
  else if (rcode === 'REFUSED') counters.refused++;
}

/** The reply to `msg` (a DNS message without the TCP length prefix), or null to drop it.
 * `udp`: the reply must fit the client's UDP size, else it is truncated (TC set, no records). */
export function respond(zones: ZoneSet, msg: Buffer, udp: boolean, counters?: RespondCounters, cache?: AnswerCache): Buffer | null {
  if (!plausibleQuery(msg)) {
    if (counters) counters.dropped++;
    return null;
  }
  let q: Decoded;
  try {
    q = packet.decode(msg) as Decoded;
  } catch {
    if (counters) counters.dropped++;
    return null;
  }
  if (q.type !== 'query' || !Array.isArray(q.questions)) {
    if (counters) counters.dropped++;
    return null;
  }
  const opt = q.additionals?.find((r) => r.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  const rd = (q.flags ?? 0) & packet.RECURSION_DESIRED;
  const base = { type: 'response' as const, id: q.id ?? 0, additionals: opt ? [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_MAX, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [] }] : [] };
  let reply: packet.Packet;
  let rcode: Rcode | undefined;
  let key: string | undefined;
  if (q.opcode === 'QUERY' && q.questions.length === 1 && cache) {
    const question = q.questions[0]!;
    key = `${udp ? 'u' : 't'}${opt ? opt.udpPayloadSize ?? 0 : '-'}|${question.type}|${question.class}|${question.name}`;
    const hit = cache.get(zones, key);
    if (hit) {
      // The same answer to the same question: only the id and the RD bit are the asker's.
      const out = Buffer.from(hit.buf);
      out.writeUInt16BE(q.id ?? 0, 0);
      out[2] = (out[2]! & 0xfe) | (rd ? 1 : 0);
      count(counters, hit.rcode);
      return out;
    }
  }
  if (q.opcode !== 'QUERY') {
    reply = { ...base, flags: rd | RCODE.NOTIMP, questions: [], answers: [], authorities: [] } as unknown as packet.Packet;
  } else if (q.questions.length !== 1) {
    reply = { ...base, flags: rd | RCODE.FORMERR, questions: [], answers: [], authorities: [] } as unknown as packet.Packet;
  } else {
    const question = q.questions[0]!;
    const a = answer(zones, String(question.name), String(question.type), String(question.class ?? 'IN'));
    rcode = a.rcode;
    reply = {
      ...base,
      flags: rd | (a.aa ? packet.AUTHORITATIVE_ANSWER : 0) | RCODE[a.rcode],
      questions: [question],
      answers: a.answers,
      authorities: a.authorities,
    } as unknown as packet.Packet;
  }
  try {
    let out = packet.encode(reply);
    const max = opt ? Math.max(PLAIN_UDP_MAX, Math.min(opt.udpPayloadSize ?? PLAIN_UDP_MAX, EDNS_UDP_MAX)) : PLAIN_UDP_MAX;
    if (udp && out.length > max) {
      out = packet.encode({ ...reply, flags: (reply.flags ?? 0) | packet.TRUNCATED_RESPONSE, answers: [], authorities: [] } as unknown as packet.Packet);
    }
    if (rcode !== undefined) {
      count(counters, rcode);
      if (key !== undefined) cache!.set(key, { buf: out, rcode });
    } else if (counters) counters.answered++;
    return out;
  } catch {
    // A question dns-packet decoded but cannot encode back (an odd type or class): drop it.
    if (counters) counters.dropped++;
    return null;
  }
}

/** A cheap look at the header before decoding: at least a header, not a response, and section
 * counts the message can hold (a question takes 5 bytes at least, a record 11). dns-packet
 * allocates arrays of the stated counts before it finds out, so junk claiming 65,535 records
 * would otherwise cost far more than an answer. */
function plausibleQuery(msg: Buffer): boolean {
  if (msg.length < 12 || msg.length > 65535) return false;
  if (msg[2]! & 0x80) return false; // QR: a response, never answered (no reflection loops)
  const qd = msg.readUInt16BE(4);
  const rr = msg.readUInt16BE(6) + msg.readUInt16BE(8) + msg.readUInt16BE(10);
  return 12 + qd * 5 + rr * 11 <= msg.length;
}
