// What every controller service needs: the store, the TLS identity and the address nodes dial.
import type { Store } from './store/store.ts';
import type { Logger } from 'pino';

export interface ControllerContext {
  store: Store;
  log: Logger;
  /** host:port that join tokens send nodes to; several controllers' addresses comma-separated,
   * in the order nodes try them. */
  grpcPublicAddr: string;
  caPin: string;
  /** The data directory (absent in tests that run without one). */
  dataDir?: string;
  /** URL of the admin API that login tokens send admins to (set once it listens). */
  apiPublicUrl?: string;
  now(): Date;
}
