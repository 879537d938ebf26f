// The base of every meshctl command: --json, and the one place errors are printed.
import { Command } from '@oclif/core/command';
import { classify, renderHuman, renderJson } from './errors.ts';

export abstract class MeshCommand extends Command {
  static override enableJsonFlag = true;

  /** Prints `human` unless --json is on (then oclif prints the returned result). */
  protected out(human: string): void {
    if (!this.jsonEnabled()) this.log(human);
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<void> {
    const c = classify(err);
    if (process.env.MESHCTL_DEBUG) process.stderr.write(`${err.stack ?? err}\n`);
    process.exitCode = c.exit;
    if (c.exit === 0) return;
    if (this.jsonEnabled()) process.stdout.write(renderJson(c) + '\n');
    else process.stderr.write(renderHuman(c) + '\n');
  }
}
