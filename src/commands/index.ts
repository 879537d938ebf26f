// The command table handed to oclif in memory (the single executable has no commands on disk).
import Server from './server.ts';
import ServerMigrateStore from './server/migrate-store.ts';
import NetworkCreate from './network/create.ts';
import NetworkList from './network/list.ts';
import NetworkShow from './network/show.ts';
import NetworkUpdate from './network/update.ts';
import NetworkDelete from './network/delete.ts';
import KeysCreate from './keys/create.ts';
import KeysList from './keys/list.ts';
import KeysRevoke from './keys/revoke.ts';
import NodesList from './nodes/list.ts';
import NodesShow from './nodes/show.ts';
import NodesApprove from './nodes/approve.ts';
import NodesDelete from './nodes/delete.ts';
import NodesIngress from './nodes/ingress.ts';
import NodesEgress from './nodes/egress.ts';
import ClientsCreate from './clients/create.ts';
import ClientsList from './clients/list.ts';
import ClientsShow from './clients/show.ts';
import ClientsDelete from './clients/delete.ts';
import ClientsDisable from './clients/disable.ts';
import ClientsEnable from './clients/enable.ts';
import DnsList from './dns/list.ts';
import DnsAdd from './dns/add.ts';
import DnsRm from './dns/rm.ts';
import DnsExport from './dns/export.ts';
import Join from './join.ts';
import CheckIn from './checkin.ts';
import Leave from './leave.ts';
import Status from './status.ts';
import Agent from './agent.ts';
import RelayCmd from './relay.ts';
import Login from './login.ts';
import Logout from './logout.ts';
import AdminTokenCreate from './admin/token/create.ts';
import AdminTokenList from './admin/token/list.ts';
import AdminTokenRevoke from './admin/token/revoke.ts';
import Audit from './audit.ts';
import Dashboard from './dashboard.ts';

export const COMMANDS = {
  server: Server,
  relay: RelayCmd,
  'server:migrate-store': ServerMigrateStore,
  'network:create': NetworkCreate,
  'network:list': NetworkList,
  'network:show': NetworkShow,
  'network:update': NetworkUpdate,
  'network:delete': NetworkDelete,
  'keys:create': KeysCreate,
  'keys:list': KeysList,
  'keys:revoke': KeysRevoke,
  'nodes:list': NodesList,
  'nodes:show': NodesShow,
  'nodes:approve': NodesApprove,
  'nodes:delete': NodesDelete,
  'nodes:ingress': NodesIngress,
  'nodes:egress': NodesEgress,
  'clients:create': ClientsCreate,
  'clients:list': ClientsList,
  'clients:show': ClientsShow,
  'clients:delete': ClientsDelete,
  'clients:disable': ClientsDisable,
  'clients:enable': ClientsEnable,
  'dns:list': DnsList,
  'dns:add': DnsAdd,
  'dns:rm': DnsRm,
  'dns:export': DnsExport,
  join: Join,
  checkin: CheckIn,
  leave: Leave,
  status: Status,
  agent: Agent,
  login: Login,
  logout: Logout,
  'admin:token:create': AdminTokenCreate,
  'admin:token:list': AdminTokenList,
  'admin:token:revoke': AdminTokenRevoke,
  audit: Audit,
  dashboard: Dashboard,
};
