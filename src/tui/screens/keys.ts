// A network's access keys: name, uses left, expiry, state. Never a secret: the token of a new
// key is shown once, with its QR code, and not kept.
import type React from 'react';
import { useData } from '../hooks.ts';
import { fit, row, type ScreenProps } from '../screen.ts';
import { listBody, useAddRemove } from '../list-screen.ts';
import { matches } from '../format.ts';
import * as v from '../validate.ts';

export const KEYS_KEYS: [string, string][] = [['n', 'new key'], ['d', 'revoke'], ['Tab', 'next tab']];

export function KeysScreen(p: ScreenProps & { network: string }): React.ReactElement {
  const keys = useData(() => p.source.listKeys(p.network), [p.network], p.tick, 2000); // keys are not in the event stream
  const list = (keys.data ?? []).filter((k) => matches(p.filter, k.name));
  const win = p.height - 2;
  const { cursor, offset } = useAddRemove(p, list, win, () => ({
    title: `New access key for ${p.network}`,
    fields: [
      { key: 'name', label: 'name (empty: generated)', validate: v.optionalLabel('key name') },
      { key: 'uses', label: 'uses', initial: '1', validate: v.uses },
      { key: 'expires', label: 'expires (e.g. 24h, empty: never)', validate: v.duration },
    ],
    onSubmit: async (f) => {
      const k = await p.source.createKey(p.network, {
        ...(f.name ? { name: f.name } : {}),
        uses: f.uses === 'unlimited' ? 'unlimited' : Number(f.uses || 1),
        ...(f.expires ? { expires: f.expires } : {}),
      });
      p.ui.close();
      p.ui.secret(`Join token of key ${k.name} (network ${p.network})`, k.token, k.token);
      p.ui.say(`Created key ${k.name}. On a node: meshctl join -t TOKEN`);
    },
  }), (sel) => ({
    ask: `Revoke key ${sel.name}? Nodes can no longer join with it.`,
    run: async () => {
      await p.source.revokeKey(p.network, sel.name);
      return `Revoked key ${sel.name}.`;
    },
  }));
  const cols = fit([
    { title: 'KEY', width: 24 },
    { title: 'USES LEFT', width: 10, right: true },
    { title: 'EXPIRES', width: 20 },
    { title: 'STATE', width: 8 },
    { title: 'CREATED', width: 10, optional: 1 },
  ], p.columns);
  return listBody({
    noun: ['key', 'keys'], loaded: keys, list, filter: p.filter, empty: 'No access keys. Press n to make one.', cols, cursor, offset, win,
    row: (k, selected) => {
      const expired = k.expiresAt !== null && Date.parse(k.expiresAt) <= p.now;
      const state = k.revoked ? 'revoked' : expired ? 'expired' : k.usesRemaining === 0 ? 'used up' : 'active';
      return row(k.name, cols, {
        KEY: k.name,
        'USES LEFT': k.usesRemaining === null ? 'unlimited' : String(k.usesRemaining),
        EXPIRES: k.expiresAt ? k.expiresAt.replace('T', ' ').slice(0, 16) : 'never',
        STATE: [state, state === 'active' ? 'green' : 'red'],
        CREATED: k.createdAt?.slice(0, 10) ?? '',
      }, selected);
    },
  });
}
