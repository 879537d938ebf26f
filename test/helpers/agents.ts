// For harness tests that run agent daemons against an in-process controller: waiting on a
// condition, and the admin API of a test controller.
import assert from 'node:assert/strict';
import type { TestController } from './controller.ts';

/** Polls `fn` every 10 ms until it holds; returns the time that took, fails after `ms`. */
export async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 5000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await fn()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out after ${ms} ms waiting for: ${what}`);
}

/** One admin API call to `tc` with its admin token; fails the test on an error status. */
export async function admin<T>(tc: TestController, method: string, path: string, body?: unknown): Promise<T> {
  const res = await tc.fetch(`${tc.apiUrl}/api/v1${path}`, { method, headers: { authorization: `Bearer ${tc.token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
