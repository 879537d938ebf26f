// The in-process harness: a controller with real gRPC on loopback, and agents whose platform
// is simulated (no WireGuard needed).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestController, type TestController } from './controller.ts';
import { simHost } from '../platform/wg-sim.ts';
import type { AgentEnv } from '../../src/agent/node.ts';

export interface Harness extends TestController {
  admin<T>(method: string, path: string, body?: unknown): Promise<T>;
  agent(): Promise<AgentEnv>;
  stopAll(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const tc = await startTestController({ grpc: true });
  const dirs: string[] = [];
  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await tc.fetch(`${tc.apiUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${tc.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return {
    ...tc,
    admin,
    agent: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'meshctl-agent-'));
      dirs.push(dir);
      return { configDir: dir, runner: simHost({ kernel: true }).runner };
    },
    stopAll: async () => {
      await tc.stop();
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    },
  };
}
