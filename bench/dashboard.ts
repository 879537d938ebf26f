// `npm run bench:dashboard`: how fast `meshctl dashboard` draws.
//
//   npm run bench:dashboard -- [--runs 5] [--nodes 1000] [--keys 200] [--bin dist/meshctl] [--part all|start|render]
//
// 1. First frame: the real command in a real terminal (tmux, on a private socket, 80x24), started
//    against a stand-in admin API on loopback that serves two networks. Times from spawning the
//    process to the header on screen ("first frame") and to the networks listed ("first data"),
//    read by polling tmux's screen every 5 ms; the medians of --runs starts. The development
//    launcher (bin/run.js, type stripping) always; the single executable too when built
//    (dist/meshctl, or --bin).
// 2. The node screen at --nodes nodes (the fake data source of the component tests, soft state
//    polled every second as in a real run): the time to the first frame of the list, then the
//    time from each key press (--keys presses of ↓, then PgDn/PgUp) to the frame it caused,
//    p50/p95/max. Ink's debug renderer draws every update at once (no 30 fps throttle), so this
//    is the cost of a frame itself.
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import React from 'react';
import { render } from 'ink-testing-library';
import { App } from '../src/tui/app.ts';
import { newNetwork } from '../src/core/network.ts';
import { fakeSource } from '../test/helpers/fake-source.ts';

const { values: opt } = parseArgs({ options: { runs: { type: 'string', default: '5' }, nodes: { type: 'string', default: '1000' }, keys: { type: 'string', default: '200' }, bin: { type: 'string' }, part: { type: 'string', default: 'all' } } });
const repo = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** A stand-in admin API: two networks, no nodes, no event stream (404), on loopback. */
async function fakeApi(): Promise<{ url: string; close: () => void }> {
  const nets = [newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), newNetwork({ name: 'branch', cidr: '10.20.0.0/24' })];
  const srv = createServer((req, res) => {
    const body = req.url === '/api/v1/networks' ? nets : req.url === '/api/v1/nodes' ? [] : undefined;
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? { code: 'NOT_FOUND', detail: 'no route' }));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, close: () => { srv.closeAllConnections(); srv.close(); } };
}

async function firstFrame(label: string, argv: string[], api: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-dash-'));
  const sock = join(dir, 'tmux.sock');
  const tmux = (...a: string[]) => spawnSync('tmux', ['-S', sock, ...a], { encoding: 'utf8' });
  const frame: number[] = [];
  const data: number[] = [];
  try {
    for (let i = 0; i < Number(opt.runs); i++) {
      const cmd = `env MESHCTL_SERVER=${api} MESHCTL_TOKEN=bench ${argv.map((a) => `'${a}'`).join(' ')} dashboard; sleep 60`;
      const t0 = performance.now();
      tmux('new-session', '-d', '-x', '80', '-y', '24', cmd);
      let f = 0;
      for (;;) {
        const screen = tmux('capture-pane', '-p').stdout;
        const now = performance.now() - t0;
        if (!f && screen.includes('meshctl dashboard')) f = now;
        if (screen.includes('branch') && screen.includes('office')) {
          frame.push(f || now);
          data.push(now);
          break;
        }
        if (now > 20_000) throw new Error(`${label}: no frame after 20 s:\n${screen}`);
        await sleep(5);
      }
      tmux('kill-server');
      await sleep(100);
    }
  } finally {
    tmux('kill-server');
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`first frame  ${label.padEnd(34)} median ${ms(q(frame, 0.5))} (min ${ms(Math.min(...frame))}), first data median ${ms(q(data, 0.5))}  [${frame.length} starts, 80x24 tmux]`);
}

async function nodeScreen(): Promise<void> {
  const N = Number(opt.nodes);
  const s = fakeSource();
  s.networks.push(newNetwork({ name: 'office', cidr: '10.0.0.0/16' }));
  for (let i = 0; i < N; i++) s.addNode('office', `node${String(i).padStart(4, '0')}`, i % 17 === 0 ? 'stale' : 'healthy');
  let lastWrite = 0;
  const t0 = performance.now();
  const r = render(React.createElement(App, { source: s, size: { columns: 80, rows: 24 }, initial: { kind: 'network', network: 'office', tab: 'nodes' } }));
  const write = r.stdout.write;
  r.stdout.write = (f: string) => {
    lastWrite = performance.now();
    write(f);
  };
  while (!/1\/\d+ nodes/.test(r.lastFrame() ?? '')) await sleep(1);
  const first = lastWrite - t0;
  const times: number[] = [];
  const cpu: number[] = [];
  const keys = Number(opt.keys);
  for (let i = 0; i < keys; i++) {
    const key = i < keys / 2 ? '\x1b[B' : i % 2 ? '\x1b[6~' : '\x1b[5~';
    const before = r.lastFrame();
    const sent = performance.now();
    const c0 = process.cpuUsage();
    lastWrite = 0;
    r.stdin.write(key);
    while (!lastWrite || r.lastFrame() === before) await sleep(0);
    times.push(lastWrite - sent);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    await sleep(2);
  }
  r.unmount();
  console.log(`node screen  ${N} nodes, 80x24: first frame of the list ${ms(first)}; per key press (${keys}: ↓, PgDn, PgUp) p50 ${ms(q(times, 0.5))}, p95 ${ms(q(times, 0.95))}, max ${ms(Math.max(...times))}; CPU per key press p50 ${ms(q(cpu, 0.5))}, p95 ${ms(q(cpu, 0.95))} (wall time includes waiting for a core on a loaded machine; load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)})`);
}

const api = await fakeApi();
if (opt.part !== 'render') try {
  await firstFrame('node bin/run.js (type stripping)', [process.execPath, join(repo, 'bin', 'run.js')], api.url);
  const bin = opt.bin ?? join(repo, 'dist', 'meshctl');
  if (existsSync(bin)) await firstFrame(`${bin.replace(repo, '')} (single executable)`, [bin], api.url);
  else console.log(`first frame  (no ${bin}: run npm run build for the single executable's figure)`);
} finally {
  api.close();
}
if (opt.part !== 'start') await nodeScreen();
process.exit(0);
