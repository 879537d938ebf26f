// The argv that runs this meshctl again (for systemd units and crontab lines): the single
// executable itself, or in development the pinned Node with bin/run.js.
import { join } from 'node:path';

export async function selfCommand(root: string): Promise<string[]> {
  const sea = await import('node:sea').catch(() => undefined);
  return sea?.isSea() ? [process.execPath] : [process.execPath, join(root, 'bin', 'run.js')];
}
