// The node API's service definition, from the JSON descriptor made from proto/meshctl.proto at
// development time (scripts/gen-proto.js): nothing is read from disk at run time.
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import descriptor from '../../proto/meshctl.json' with { type: 'json' };

const LOADER_OPTIONS = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true } as const;

let cached: grpc.ServiceClientConstructor | undefined;

/** The NodeService client constructor (its `.service` is the server-side definition). */
export function nodeService(): grpc.ServiceClientConstructor {
  if (cached) return cached;
  const pkg = grpc.loadPackageDefinition(fromJSON(descriptor as never, LOADER_OPTIONS)) as unknown as {
    meshctl: { v1: { NodeService: grpc.ServiceClientConstructor } };
  };
  cached = pkg.meshctl.v1.NodeService;
  return cached;
}
