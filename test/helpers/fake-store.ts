// A fake Store holding one network ("office", 10.10.0.0/24) and its members, for the tests of
// what reads the members and follows the store's changes (view builder, Watch hub). It counts
// member reads; `emit` tells the subscribers of a change, `change` makes it first.
import { newNetwork } from '../../src/core/network.ts';
import type { Change } from '../../src/core/change.ts';
import type { NodeRow, Store } from '../../src/controller/store/store.ts';

/** Member `i` of "office": id`i`, pk`i`, 10.10.0.`i`, named n01, n02... unless `name` says. */
export const memberRow = (i: number, name = `n${String(i).padStart(2, '0')}`): NodeRow => ({
  id: `id${i}`, network: 'office', name, address: `10.10.0.${i}`, publicKey: `pk${i}`, endpoint: `172.31.0.${i}:51821`,
  endpointStated: false, listenPort: 51821, approved: true, credentialHash: 'h', createdAt: '', lastCheckin: null,
});

/** The store with members 1..`n`; `state.reads` counts listNodes calls. */
export function fakeMemberStore(n: number) {
  const listeners = new Set<(c: Change) => void>();
  const state = { net: { ...newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), version: 1 }, rows: Array.from({ length: n }, (_, i) => memberRow(i + 1)), reads: 0 };
  const store = {
    subscribe: (l: (c: Change) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    getNetwork: async () => ({ ...state.net }),
    listNodes: async () => {
      state.reads++;
      return state.rows.map((r) => ({ ...r }));
    },
    listClients: async () => [],
    listRecords: async () => [],
  } as unknown as Store;
  /** Tells the subscribers of `c` (the state is the test's to set). */
  const emit = (c: Change) => listeners.forEach((l) => l(c));
  /** Makes a change in the fake store (`apply`, and the network's version) and tells the subscribers. */
  const change = (c: Change, apply: () => void = () => {}) => {
    apply();
    state.net.version = c.version;
    emit(c);
  };
  return { store, state, emit, change };
}
