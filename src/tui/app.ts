// The dashboard: header (where, which screen, whether the controller answers), the screen, the
// status line and the footer; routes between screens; owns the overlays and the event stream.
import React from 'react';
import { Box, Text, useApp, useInput } from 'ink';
import type { DataSource, LinkState } from './source.ts';
import { HealthContext, isUnreachable, useTermSize, type Size } from './hooks.ts';
import { TABS, type Route, type ScreenProps, type Ui } from './screen.ts';
import { Confirm, Footer, Form, Help, Secret, type FormProps } from './widgets.ts';
import { qrOf } from '../cli/clients.ts';
import { NetworksScreen, NETWORKS_KEYS } from './screens/networks.ts';
import { NodesScreen, NODES_KEYS } from './screens/nodes.ts';
import { MatrixScreen, MATRIX_KEYS } from './screens/matrix.ts';
import { KeysScreen, KEYS_KEYS } from './screens/keys.ts';
import { DnsScreen, DNS_KEYS } from './screens/dns.ts';
import { GatewaysScreen, GATEWAYS_KEYS } from './screens/gateways.ts';
import { NodeDetailScreen, NODE_KEYS } from './screens/node-detail.ts';
import { AuditScreen, AUDIT_KEYS } from './screens/audit.ts';

const h = React.createElement;

export const GLOBAL_KEYS: [string, string][] = [['↑↓ PgUp PgDn', 'move'], ['Esc', 'back'], ['/', 'filter'], ['L', 'audit log'], ['?', 'help'], ['q', 'quit']];

type Overlay =
  | { kind: 'help' }
  | { kind: 'form'; props: Omit<FormProps, 'onCancel'> }
  | { kind: 'confirm'; message: string; action: () => Promise<void> }
  | { kind: 'secret'; title: string; text: string; qr?: string };

export interface AppProps {
  source: DataSource;
  /** Fixed terminal size (tests); else the real terminal's, following resizes. */
  size?: Size;
  /** How often the clock (ages) ticks, ms. */
  clockMs?: number;
  /** How soon after an event the screen reloads (coalescing bursts), ms. */
  settleMs?: number;
  /** While the controller does not answer, how often to try again, ms. */
  retryMs?: number;
  initial?: Route;
}

const keysOf = (r: Route): [string, string][] => {
  if (r.kind === 'networks') return NETWORKS_KEYS;
  if (r.kind === 'audit') return AUDIT_KEYS;
  if (r.kind === 'node') return NODE_KEYS;
  return { nodes: NODES_KEYS, matrix: MATRIX_KEYS, keys: KEYS_KEYS, dns: DNS_KEYS, gateways: GATEWAYS_KEYS }[r.tab];
};

const title = (r: Route): string =>
  r.kind === 'networks' ? 'networks' : r.kind === 'audit' ? 'audit log' : r.kind === 'node' ? `${r.network} › ${r.node}` : r.network;

export function App(p: AppProps): React.ReactElement {
  const { exit } = useApp();
  const size = useTermSize(p.size);
  const [stack, setStack] = React.useState<Route[]>([p.initial ?? { kind: 'networks' }]);
  const route = stack[stack.length - 1]!;
  const [overlay, setOverlay] = React.useState<Overlay | null>(null);
  const [filter, setFilter] = React.useState('');
  const [filtering, setFiltering] = React.useState(false);
  const [message, setMessage] = React.useState('');
  const [tick, setTick] = React.useState(0);
  const [now, setNow] = React.useState(Date.now());
  const [link, setLink] = React.useState<LinkState | null>(null);
  const [callError, setCallError] = React.useState<Error | null>(null);
  const settle = React.useRef<NodeJS.Timeout | undefined>(undefined);

  const bump = React.useCallback(() => {
    if (settle.current) return;
    settle.current = setTimeout(() => {
      settle.current = undefined;
      setTick((t) => t + 1);
    }, p.settleMs ?? 100);
  }, [p.settleMs]);

  // The event stream: any change, status or reset reloads what is shown.
  React.useEffect(() => {
    const ac = new AbortController();
    let wasDown = false;
    p.source.follow(
      () => bump(),
      (s) => {
        setLink(s);
        if (s.state === 'up' && wasDown) bump(); // missed events while away: take a fresh snapshot
        wasDown = s.state === 'down';
      },
      ac.signal,
    );
    return () => {
      ac.abort();
      clearTimeout(settle.current);
    };
  }, [p.source]);

  React.useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), p.clockMs ?? 1000);
    return () => clearInterval(t);
  }, [p.clockMs]);

  // Self-recovery: while calls fail for want of the controller, reload every retryMs.
  React.useEffect(() => {
    if (!callError) return;
    const t = setInterval(() => setTick((x) => x + 1), p.retryMs ?? 2000);
    return () => clearInterval(t);
  }, [callError, p.retryMs]);

  const health = React.useMemo(() => ({
    failed: (err: unknown) => {
      if (isUnreachable(err)) setCallError(err as Error);
    },
    ok: () => setCallError(null),
  }), []);

  const ui: Ui = React.useMemo(() => ({
    form: (props) => setOverlay({ kind: 'form', props }),
    confirm: (message, action) => setOverlay({ kind: 'confirm', message, action }),
    secret: (title, text, qrText) => {
      setOverlay({ kind: 'secret', title, text });
      if (qrText) void qrOf(qrText).then((qr) => setOverlay((o) => (o?.kind === 'secret' && o.text === text ? { ...o, qr } : o)), () => {});
    },
    close: () => setOverlay(null),
    open: (r) => {
      setStack((s) => [...s, r]);
      setFilter('');
    },
    say: (m) => {
      setMessage(m);
      bump(); // an action ran: show its effect even where no event follows (keys are not in the stream)
    },
  }), [bump]);

  const back = () => {
    if (stack.length > 1) {
      setStack((s) => s.slice(0, -1));
      setFilter('');
    }
  };
  const setTab = (tab: (typeof TABS)[number]) => {
    if (route.kind !== 'network' || route.tab === tab) return;
    setStack((s) => [...s.slice(0, -1), { ...route, tab }]);
    setFilter(''); // a filter is for the list it was typed over
  };

  useInput((input, key) => {
    if (filtering) {
      if (key.return || key.escape) {
        setFiltering(false);
        if (key.escape) setFilter('');
      } else if (key.backspace || key.delete) setFilter((f) => f.slice(0, -1));
      else if (input && !key.ctrl && !key.meta) setFilter((f) => f + input);
      return;
    }
    if (input === 'q') return exit();
    if (input === '?') return setOverlay({ kind: 'help' });
    if (input === '/') return setFiltering(true);
    if (input === 'L' && route.kind !== 'audit') return ui.open({ kind: 'audit' });
    if (key.escape || key.backspace || key.delete || key.leftArrow) {
      if (filter) return setFilter('');
      return back();
    }
    if (route.kind === 'network') {
      const i = TABS.indexOf(route.tab);
      if (key.tab) return setTab(TABS[(i + (key.shift ? TABS.length - 1 : 1)) % TABS.length]!);
      if (key.rightArrow) return setTab(TABS[(i + 1) % TABS.length]!);
      const n = Number(input);
      if (n >= 1 && n <= TABS.length) return setTab(TABS[n - 1]!);
    }
  }, { isActive: overlay === null });

  // A controller without the event stream (404) answers calls: poll instead of calling it down.
  const noStream = link?.state === 'down' && (link.final || (link.error as { code?: string }).code === 'NOT_FOUND');
  React.useEffect(() => {
    if (!noStream) return;
    const t = setInterval(() => setTick((x) => x + 1), p.retryMs ?? 2000);
    return () => clearInterval(t);
  }, [noStream, p.retryMs]);
  const down = link?.state === 'down' && !noStream ? link.error : callError;
  const bodyHeight = Math.max(3, size.rows - 5);
  const sp: ScreenProps = { source: p.source, tick, filter, active: overlay === null && !filtering, height: bodyHeight, columns: size.columns, now, ui };
  let screen: React.ReactElement;
  if (route.kind === 'networks') screen = h(NetworksScreen, sp);
  else if (route.kind === 'audit') screen = h(AuditScreen, sp);
  else if (route.kind === 'node') screen = h(NodeDetailScreen, { ...sp, network: route.network, node: route.node });
  else {
    const np = { ...sp, network: route.network };
    screen = { nodes: () => h(NodesScreen, np), matrix: () => h(MatrixScreen, np), keys: () => h(KeysScreen, np), dns: () => h(DnsScreen, np), gateways: () => h(GatewaysScreen, np) }[route.tab]();
  }

  let over: React.ReactElement | null = null;
  if (overlay?.kind === 'help') over = h(Help, { screen: keysOf(route), global: GLOBAL_KEYS, onClose: () => setOverlay(null) });
  else if (overlay?.kind === 'form') over = h(Form, { ...overlay.props, onCancel: () => setOverlay(null) });
  else if (overlay?.kind === 'confirm') over = h(Confirm, { message: overlay.message, onYes: overlay.action, onDone: () => setOverlay(null) });
  else if (overlay?.kind === 'secret') over = h(Secret, { title: overlay.title, text: overlay.text, ...(overlay.qr ? { qr: overlay.qr } : {}), rows: size.rows, onClose: () => setOverlay(null) });

  const tabs = route.kind === 'network'
    ? h(Box, null, ...TABS.map((t, i) => h(Text, { key: t, ...(t === route.tab ? { inverse: true, bold: true } : { dimColor: true }) }, ` ${i + 1} ${t} `)))
    : h(Text, { dimColor: true }, ' ');
  return h(HealthContext.Provider, { value: health },
    h(Box, { flexDirection: 'column', width: size.columns },
      h(Box, { justifyContent: 'space-between' },
        h(Box, { flexShrink: 0, marginRight: 1 }, h(Text, { bold: true }, `meshctl dashboard · ${title(route)}`)),
        down
          ? h(Text, { color: 'red', bold: true, wrap: 'truncate-end' }, isUnreachable(down) ? 'controller unreachable, retrying…' : `⚠ ${(down as { code?: string }).code ?? 'error'}, retrying…`)
          : h(Text, { color: link?.state === 'up' ? 'green' : 'yellow', wrap: 'truncate-end' }, `${link?.state === 'up' ? '● live' : noStream ? `○ polling${link?.state === 'down' ? ` (${(link.error as { code?: string }).code ?? 'no stream'})` : ''}` : '○ connecting'} · ${p.source.label}`)),
      tabs,
      h(Box, { flexDirection: 'column', height: bodyHeight, overflow: 'hidden' },
        h(Box, { flexDirection: 'column', display: over ? 'none' : 'flex' }, screen),
        over),
      h(Text, { wrap: 'truncate-end', ...(down ? { color: 'red' } : {}) },
        down ? `${down.message}${(down as { hint?: string }).hint ? ` · ${(down as { hint?: string }).hint}` : ''}`
          : [filtering || filter ? `filter: ${filter}${filtering ? '▏' : ''}` : '', message].filter(Boolean).join(' · ') || ' '),
      h(Footer, { keys: [...keysOf(route), ...GLOBAL_KEYS.filter(([k]) => k !== '↑↓ PgUp PgDn' && !keysOf(route).some(([x]) => x === k))], columns: size.columns })));
}
