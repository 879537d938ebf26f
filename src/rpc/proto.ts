// The node API's service definition, from the JSON descriptor made from proto/meshctl.proto at
// development time (scripts/gen-proto.js): nothing is read from disk at run time.
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import descriptor from '../../proto/meshctl.json' with { type: 'json' };

const LOADER_OPTIONS = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true } as const;

type Services = { NodeService: grpc.ServiceClientConstructor; AgentControl: grpc.ServiceClientConstructor; RelayService: grpc.ServiceClientConstructor };
let cached: Services | undefined;

function services(): Services {
  cached ??= (grpc.loadPackageDefinition(fromJSON(descriptor as never, LOADER_OPTIONS)) as unknown as { meshctl: { v1: Services } }).meshctl.v1;
  return cached;
}

/** The NodeService client constructor (its `.service` is the server-side definition). */
export const nodeService = (): grpc.ServiceClientConstructor => services().NodeService;

/** The agent's local control service (Unix socket). */
export const agentControlService = (): grpc.ServiceClientConstructor => services().AgentControl;

/** The standalone relay's registration stream with a controller. */
export const relayService = (): grpc.ServiceClientConstructor => services().RelayService;
