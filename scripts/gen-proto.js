// Turns proto/*.proto into proto/meshctl.json (a protobufjs descriptor) so that nothing reads
// .proto files at run time (the single executable has no files). `--check` fails when stale.
import protobuf from 'protobufjs';
import { readFileSync, writeFileSync } from 'node:fs';

const root = protobuf.loadSync('proto/meshctl.proto');
const json = JSON.stringify(root.toJSON({ keepComments: false }), null, 1) + '\n';
if (process.argv.includes('--check')) {
  if (readFileSync('proto/meshctl.json', 'utf8') !== json) {
    console.error('proto/meshctl.json is stale: run `npm run gen:proto`');
    process.exit(1);
  }
} else {
  writeFileSync('proto/meshctl.json', json);
}
