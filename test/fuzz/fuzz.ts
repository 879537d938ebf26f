// Property-based fuzzing (fast-check) of every input meshctl takes from outside: admin REST
// bodies, paths and query strings (fastify inject against a real in-process controller on a
// temp data dir), node API messages (the NodeApi the gRPC server calls), join tokens, and the
// names, CIDRs, endpoints and expiries they carry. The properties: nothing but a MeshError is
// ever thrown, no 5xx, no unhandled rejection, and an input that is refused changes nothing.
// `runFuzz` is shared by `npm run fuzz` (1,000,000 inputs) and a fixed-seed CI slice.
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { MeshError } from '../../src/core/errors.ts';
import { assertDnsLabel, newNetwork } from '../../src/core/network.ts';
import { parseNetworkCidr } from '../../src/core/cidr.ts';
import { peerHost, statedEndpoint, observedEndpoint } from '../../src/core/endpoint.ts';
import { parseHostPort } from '../../src/core/address.ts';
import { parseExpiry } from '../../src/core/duration.ts';
import { decodeJoinToken, encodeJoinToken } from '../../src/core/join-token.ts';
import { decodeLoginToken, encodeLoginToken } from '../../src/core/login-token.ts';
import { resolveUses } from '../../src/core/keys.ts';
import { SqliteStore } from '../../src/controller/store/sqlite/index.ts';
import { AdminService } from '../../src/controller/services/admin.ts';
import { buildApi } from '../../src/controller/api/server.ts';
import { ensureAdminToken } from '../../src/controller/admin-token.ts';
import { HealthBook } from '../../src/controller/health-book.ts';
import { NodeApi, type CheckInInput, type JoinInput } from '../../src/controller/node-api/service.ts';
import { ViewBuilder } from '../../src/controller/node-api/view-builder.ts';
import type { ControllerContext } from '../../src/controller/context.ts';
import { readFile } from 'node:fs/promises';

export interface FuzzPlan {
  seed: number;
  /** Inputs per kind. */
  runs: Record<Kind, number>;
}

export type Kind = 'names' | 'cidrs' | 'endpoints' | 'expiries' | 'join-tokens' | 'login-tokens' | 'rest' | 'node-api';

export interface FuzzResult {
  counts: Record<Kind, number>;
  total: number;
  ms: number;
}

/** The plan of `npm run fuzz`: 1,000,000 inputs. */
export const FULL: FuzzPlan['runs'] = { names: 175_000, cidrs: 150_000, endpoints: 175_000, expiries: 100_000, 'join-tokens': 125_000, 'login-tokens': 75_000, rest: 150_000, 'node-api': 50_000 };

/** Only a MeshError may leave a function that validates outside input. */
function onlyMeshErrors(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (err) {
    if (err instanceof MeshError) return err;
    throw err;
  }
}

const wgKey = () => Buffer.from(generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');

// ---- generators ----
const weird = fc.constantFrom('', '.', '..', '../', '/', '../../etc/passwd', 'a/../b', '%2e%2e', '\0', ' ', '\n', 'a'.repeat(64), 'a'.repeat(300), 'office', 'Office', '-a', 'a-', 'mesh', '☃', '\u202e', '0', '-1', 'null', 'undefined', '__proto__', 'constructor');
const anyText = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.stringMatching(/^[a-z0-9-]{0,70}$/), weird);
const octet = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: -5, max: 1000 }));
const cidrText = fc.oneof(
  fc.tuple(octet, octet, octet, octet, fc.integer({ min: -2, max: 40 })).map(([a, b, c, d, n]) => `${a}.${b}.${c}.${d}/${n}`),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 33 })).map(([ip, n]) => `${ip}/${n}`),
  fc.tuple(fc.ipV4Extended(), fc.integer({ min: 0, max: 33 })).map(([ip, n]) => `${ip}/${n}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 129 })).map(([ip, n]) => `${ip}/${n}`),
  anyText,
);
const host = fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6().map((h) => `[${h}]`), fc.ipV6(), fc.ipV4Extended(), anyText, fc.string({ minLength: 250, maxLength: 270 }).map((s) => s.replace(/[^a-z]/g, 'a')));
const endpointText = fc.oneof(
  fc.tuple(host, fc.option(fc.integer({ min: -1, max: 70_000 }))).map(([h, p]) => (p === null ? h : `${h}:${p}`)),
  anyText,
);
const expiryText = fc.oneof(
  fc.tuple(fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 10n ** 25n }).map(String)), fc.constantFrom('s', 'm', 'h', 'd', 'w', 'y', '')).map(([n, u]) => `${n}${u}`),
  fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? 'Invalid Date' : d.toISOString())),
  fc.tuple(fc.integer({ min: -1, max: 300_000 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 40 })).map(([y, m, d]) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`),
  anyText,
);
const jsonish = fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }));

export async function runFuzz(plan: FuzzPlan, log: (s: string) => void = () => {}): Promise<FuzzResult> {
  const t0 = performance.now();
  const counts = Object.fromEntries(Object.keys(plan.runs).map((k) => [k, 0])) as Record<Kind, number>;
  const unhandled: unknown[] = [];
  const onUnhandled = (r: unknown) => unhandled.push(r);
  process.on('unhandledRejection', onUnhandled);
  const params = (k: Kind) => ({ seed: plan.seed, numRuns: plan.runs[k], endOnFailure: true });
  try {
    // ---- pure validation: names, CIDRs, endpoints, expiries ----
    fc.assert(fc.property(anyText, (s) => {
      counts.names++;
      const r = onlyMeshErrors(() => assertDnsLabel(s, 'name'));
      if (!(r instanceof MeshError) && !/^[a-z0-9-]{1,63}$/.test(s)) throw new Error(`accepted name ${JSON.stringify(s)}`);
      onlyMeshErrors(() => resolveUses(s));
    }), params('names'));
    log(`names: ${counts.names}`);
    fc.assert(fc.property(cidrText, anyText, (cidr, name) => {
      counts.cidrs++;
      const p = onlyMeshErrors(() => parseNetworkCidr(cidr));
      if (!(p instanceof MeshError) && ((p as { bits: number }).bits < 8 || (p as { bits: number }).bits > 30)) throw new Error(`accepted ${cidr}`);
      const n = onlyMeshErrors(() => newNetwork({ name, cidr }));
      if (!(n instanceof MeshError) && /^(0|127|169\.254|22[4-9]|2[3-5]\d)\./.test((n as { cidr: string }).cidr)) throw new Error(`accepted unusable range ${cidr}`);
    }), params('cidrs'));
    log(`cidrs: ${counts.cidrs}`);
    fc.assert(fc.property(endpointText, fc.integer({ min: 1, max: 65535 }), fc.string({ maxLength: 60 }), (e, port, peer) => {
      counts.endpoints++;
      const r = onlyMeshErrors(() => statedEndpoint(e, port));
      if (typeof r === 'string') {
        if (/[\s/\\@]/.test(r) || r.length > 262) throw new Error(`accepted endpoint ${JSON.stringify(e)} as ${r}`);
        if (statedEndpoint(r, port) !== r) throw new Error(`endpoint ${r} is not stable`);
      }
      onlyMeshErrors(() => parseHostPort(e, 'address'));
      for (const p of [peer, `ipv4:${e}`, `ipv6:${e}`, e]) {
        const h = peerHost(p);
        if (h !== null && /[\s/[\]]/.test(h)) throw new Error(`peer host ${h} from ${p}`);
        onlyMeshErrors(() => observedEndpoint(p, port));
      }
    }), params('endpoints'));
    log(`endpoints: ${counts.endpoints}`);
    const now = new Date('2026-11-26T12:00:00Z');
    fc.assert(fc.property(expiryText, (x) => {
      counts.expiries++;
      const r = onlyMeshErrors(() => parseExpiry(x, now));
      if (r instanceof Date) r.toISOString(); // must be representable (it once threw a RangeError: a 500)
    }), params('expiries'));
    log(`expiries: ${counts.expiries}`);

    // ---- join tokens ----
    const valid = { server: '192.0.2.1:50051', network: 'office', keyName: 'k1', secret: 'x'.repeat(43), caPin: `sha256:${'a'.repeat(64)}` };
    const goodToken = encodeJoinToken(valid);
    const tokenText = fc.oneof(
      anyText,
      anyText.map((s) => `mc1.${s}`),
      fc.record({ v: fc.oneof(fc.constant(1), jsonish), s: fc.oneof(endpointText, jsonish), n: fc.oneof(anyText, jsonish), k: fc.oneof(anyText, jsonish), x: fc.oneof(anyText, jsonish), p: fc.oneof(fc.constant(valid.caPin), anyText) }, { requiredKeys: [] })
        .map((b) => `mc1.${Buffer.from(JSON.stringify(b)).toString('base64url')}`),
      fc.tuple(fc.nat({ max: goodToken.length - 1 }), fc.string({ minLength: 1, maxLength: 3 })).map(([i, s]) => goodToken.slice(0, i) + s + goodToken.slice(i + s.length)),
    );
    fc.assert(fc.property(tokenText, (tok) => {
      counts['join-tokens']++;
      const r = onlyMeshErrors(() => decodeJoinToken(tok));
      if (!(r instanceof MeshError)) {
        const t = r as { network: string; keyName: string };
        if (!/^[a-z0-9-]{1,63}$/.test(t.network) || !/^[a-z0-9-]{1,63}$/.test(t.keyName)) throw new Error(`token accepted with network ${JSON.stringify(t.network)}`);
      }
    }), params('join-tokens'));
    log(`join tokens: ${counts['join-tokens']}`);
    const login = { server: 'https://192.0.2.1:8081', caPin: valid.caPin, secret: 'y'.repeat(43), name: 'ops' };
    const goodLogin = encodeLoginToken(login);
    const loginText = fc.oneof(
      anyText,
      anyText.map((s) => `mca1.${s}`),
      fc.record({ v: fc.oneof(fc.constant(1), jsonish), u: fc.oneof(fc.webUrl(), endpointText, jsonish), p: fc.oneof(fc.constant(valid.caPin), anyText), x: fc.oneof(anyText, jsonish), n: fc.oneof(anyText, jsonish) }, { requiredKeys: [] })
        .map((b) => `mca1.${Buffer.from(JSON.stringify(b)).toString('base64url')}`),
      fc.tuple(fc.nat({ max: goodLogin.length - 1 }), fc.string({ minLength: 1, maxLength: 3 })).map(([i, s]) => goodLogin.slice(0, i) + s + goodLogin.slice(i + s.length)),
    );
    fc.assert(fc.property(loginText, (tok) => {
      counts['login-tokens']++;
      onlyMeshErrors(() => decodeLoginToken(tok));
    }), params('login-tokens'));
    log(`login tokens: ${counts['login-tokens']}`);

    // ---- a real controller: REST and the node API ----
    const dir = await mkdtemp(join(tmpdir(), 'meshctl-fuzz-'));
    const store = await SqliteStore.open(dir, { softFlushMs: 3_600_000 });
    try {
      const logger = pino({ level: 'silent' });
      await ensureAdminToken(store, dir, { apiUrl: 'https://127.0.0.1:8081', caPin: valid.caPin });
      const token = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
      const ctx: ControllerContext = { store, log: logger, grpcPublicAddr: '127.0.0.1:50051', caPin: valid.caPin, now: () => new Date() };
      const health = new HealthBook();
      health.follow((l) => store.subscribe(l));
      const views = new ViewBuilder(store);
      const nodeApi = new NodeApi(ctx, health, views);
      const svc = new AdminService(ctx, health);
      // Random auth headers would spend the per-address budget of failed logins (10 a minute) and
      // turn every later request into a 429: the budget is tested in test/cli/login.test.ts.
      const app: FastifyInstance = await buildApi(store, svc, logger, '0.0.0-fuzz', { authFailuresPerMinute: Number.MAX_SAFE_INTEGER });
      await app.ready();
      const authz = { authorization: `Bearer ${token}` };
      const seed = async (method: string, url: string, payload?: unknown) => {
        const r = await app.inject({ method: method as 'GET', url, headers: authz, ...(payload === undefined ? {} : { payload: payload as object }) });
        if (r.statusCode >= 300) throw new Error(`seeding ${method} ${url}: ${r.statusCode} ${r.body}`);
        return r.json() as Record<string, unknown>;
      };
      await seed('POST', '/api/v1/networks', { name: 'office', cidr: '10.10.0.0/16' });
      await seed('POST', '/api/v1/networks/office/keys', { name: 'k1', uses: 'unlimited', expires: '0' });
      await seed('POST', '/api/v1/networks/office/dns', { name: 'printer', address: '10.10.0.200' });

      const segment = fc.oneof(fc.constantFrom('office', 'k1', 'printer', 'n1', 'networks', 'keys', 'nodes', 'dns', 'approve'), anyText.map(encodeURIComponent), anyText);
      const path = fc.oneof(
        fc.tuple(fc.constantFrom('/api/v1/networks', '/api/v1/networks/', '/api/v1/nodes'), fc.constant('')).map(([a]) => a),
        segment.map((n) => `/api/v1/networks/${n}`),
        fc.tuple(segment, fc.constantFrom('keys', 'nodes', 'dns')).map(([n, r]) => `/api/v1/networks/${n}/${r}`),
        fc.tuple(segment, fc.constantFrom('keys', 'nodes', 'dns'), segment).map(([n, r, x]) => `/api/v1/networks/${n}/${r}/${x}`),
        fc.tuple(segment, segment).map(([n, x]) => `/api/v1/networks/${n}/nodes/${x}/approve`),
        fc.webPath().map((p) => `/api/v1${p}`),
        anyText.map((s) => `/${s}`),
      );
      const query = fc.oneof(fc.constant(''), fc.constantFrom('?force=true', '?force=false', '?force=1', '?force'), fc.webQueryParameters().map((q) => `?${q}`), anyText.map((s) => `?${encodeURIComponent(s)}=${encodeURIComponent(s)}`));
      const fields = fc.record({
        name: fc.oneof(anyText, jsonish), cidr: fc.oneof(cidrText, jsonish), listenPort: fc.oneof(fc.integer({ min: -10, max: 70_000 }), jsonish),
        keepalive: fc.oneof(fc.integer({ min: -10, max: 5000 }), jsonish), manualApproval: fc.oneof(fc.boolean(), jsonish),
        uses: fc.oneof(fc.integer({ min: -2, max: 2_000_000 }), fc.constant('unlimited'), jsonish), expires: fc.oneof(expiryText, jsonish),
        address: fc.oneof(fc.ipV4(), anyText, jsonish),
      }, { requiredKeys: [] });
      const body = fc.oneof(fc.constant(undefined), fields, fc.jsonValue({ maxDepth: 3 }), anyText);
      const request = fc.record({
        method: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS'),
        path, query, body,
        auth: fc.oneof({ weight: 9, arbitrary: fc.constant(authz.authorization) }, { weight: 1, arbitrary: fc.oneof(anyText, anyText.map((s) => `Bearer ${s}`)) }),
        raw: fc.boolean(),
      });
      await fc.assert(fc.asyncProperty(request, async (q) => {
        counts.rest++;
        const before = store.engine.generation;
        const headers: Record<string, string> = { authorization: q.auth };
        let payload: string | undefined;
        if (q.body !== undefined) {
          headers['content-type'] = 'application/json';
          payload = q.raw && typeof q.body === 'string' ? q.body : JSON.stringify(q.body);
        }
        // light-my-request itself refuses what WHATWG URL cannot parse ("/\\x]" reads as an
        // authority): such a path goes percent-encoded, as a client library would send it.
        const url = URL.canParse(q.path + q.query, 'http://localhost') ? q.path + q.query : `/${encodeURIComponent(q.path.slice(1))}${q.query}`;
        const r = await app.inject({ method: q.method as 'GET', url, headers, ...(payload === undefined ? {} : { payload }) });
        if (r.statusCode >= 500) throw new Error(`${q.method} ${q.path}${q.query} -> ${r.statusCode}: ${r.body.slice(0, 300)}`);
        if (r.statusCode >= 400 && store.engine.generation !== before) throw new Error(`${q.method} ${q.path}${q.query} was refused (${r.statusCode}) but changed the store`);
      }), params('rest'));
      log(`rest: ${counts.rest}`);

      // The node API, as the gRPC server calls it (messages decoded from the wire are typed), on a
      // network of its own (the REST inputs may have deleted or filled the seeded one).
      let net = '';
      for (let i = 0; !net && i < 200; i++) {
        const name = `nodefuzz${i}`;
        const made = await svc.createNetwork({ name, cidr: `10.${i}.0.0/16` }, 'fuzz').then(() => true, () => false);
        if (made) net = name;
      }
      if (!net) throw new Error('no free range for the node API network');
      const nodeKey = decodeJoinToken((await svc.createKey(net, { name: 'k1', uses: 'unlimited', expires: '0' }, 'fuzz')).token);
      const realKey = wgKey();
      const joined = await nodeApi.join({ network: net, keyName: nodeKey.keyName, keySecret: nodeKey.secret, name: 'n1', publicKey: realKey, listenPort: 0, endpoint: '' }, 'ipv4:192.0.2.10:40000');
      const source = fc.oneof(fc.constantFrom('ipv4:192.0.2.10:40000', 'ipv6:[::1]:40000', '::ffff:192.0.2.9:1', 'unix:/x'), anyText, fc.ipV6().map((h) => `${h}:1234`));
      const u32 = fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.constant(0), fc.constant(4_294_967_295));
      const joinReq: fc.Arbitrary<JoinInput> = fc.record({
        network: fc.oneof(fc.constant(net), anyText), keyName: fc.oneof(fc.constant(nodeKey.keyName), anyText), keySecret: fc.oneof(fc.constant(nodeKey.secret), anyText),
        name: anyText, publicKey: fc.oneof(fc.constant(realKey), fc.constant('A'.repeat(43) + '='), anyText), listenPort: u32, endpoint: fc.oneof(fc.constant(''), endpointText),
      });
      const checkInReq: fc.Arbitrary<CheckInInput> = fc.record({
        listenPort: u32, endpoint: fc.oneof(fc.constant(''), endpointText), knownVersion: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
        handshakes: fc.array(fc.record({ publicKey: fc.oneof(fc.constant(realKey), anyText), latestHandshake: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)), rxBytes: fc.nat(), txBytes: fc.nat() }), { maxLength: 4 }),
      });
      const credential = fc.oneof(fc.constant(`Bearer ${joined.credential}`), anyText, anyText.map((s) => `Bearer ${joined.nodeId}.${s}`), fc.constant(undefined));
      const call = fc.oneof(
        fc.record({ op: fc.constant('join' as const), req: joinReq, source }),
        fc.record({ op: fc.constant('check-in' as const), req: checkInReq, source, cred: credential }),
      );
      await fc.assert(fc.asyncProperty(call, async (c) => {
        counts['node-api']++;
        const before = store.engine.generation;
        try {
          if (c.op === 'join') await nodeApi.join(c.req, c.source);
          else {
            const node = await nodeApi.authenticate(c.cred, c.source);
            await nodeApi.checkIn(node, c.req, c.source);
          }
        } catch (err) {
          if (!(err instanceof MeshError)) throw new Error(`${c.op} threw ${(err as Error).stack}`);
          if (store.engine.generation !== before) throw new Error(`${c.op} was refused (${err.code}) but changed the store`);
        }
      }), params('node-api'));
      log(`node API: ${counts['node-api']}`);
      await app.close();
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
    await new Promise((r) => setImmediate(r));
    if (unhandled.length) throw new Error(`${unhandled.length} unhandled rejection(s): ${String(unhandled[0])}`);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return { counts, total, ms: performance.now() - t0 };
}
