// What keeps a node in step after join: a systemd unit running `meshctl agent`, a crontab line
// running `meshctl checkin`, or nothing (the operator schedules it). Leave of the last network
// removes what join installed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Runner } from '../platform/runner.ts';
import {
  cronDaemonRunning, detectDaemonMode, installSystemdUnit, removeSystemdUnit, installCronLine, removeCronLine, offInstructions,
  DEFAULT_UNIT_DIR, UNIT_NAME,
} from '../platform/service.ts';
import { joinedNetworks } from './state.ts';
import { callAgent, socketPath } from './control.ts';
import { MeshError } from '../core/errors.ts';

export type DaemonChoice = 'systemd' | 'cron' | 'off' | 'auto';

export interface ScheduleResult {
  /** What keeps the node in step: `agent` when an agent already runs for this config dir. */
  daemon: 'systemd' | 'cron' | 'off' | 'agent';
  detail: string;
  /** Set when what was installed will not run as things stand (no cron daemon). */
  warning?: string;
}

/** What installSchedule looks at on the host (injected in tests). */
export interface ScheduleProbe {
  /** Whether an agent already serves this config dir (its control socket answers). */
  agentRunning(configDir: string): Promise<boolean>;
  cronRunning(): Promise<boolean>;
}

export const hostProbe: ScheduleProbe = {
  agentRunning: async (configDir) => (await callAgent(socketPath(configDir), 'Status', '').catch(() => undefined)) !== undefined,
  cronRunning: () => cronDaemonRunning(),
};

/** The scheduler `choice` comes to on this host; refuses one the host cannot run, so that join
 * can stop before it changes anything. */
export async function resolveDaemon(runner: Runner, choice: DaemonChoice): Promise<'systemd' | 'cron' | 'off'> {
  if (choice === 'off') return 'off';
  const here = await detectDaemonMode(runner);
  const mode = choice === 'auto' ? here : choice;
  if (mode === 'systemd' && here !== 'systemd') {
    throw new MeshError('INVALID_ARGUMENT', 'systemd is not running on this host, so --daemon systemd cannot keep the node in step', {
      hint: 'Use --daemon cron (a crontab line running `meshctl checkin`) or --daemon off',
    });
  }
  if (mode === 'cron') {
    try {
      await runner.run(['crontab', '-l'], { allowFail: true }); // exit 1 "no crontab" is fine; a missing program is not
    } catch (err) {
      throw new MeshError('INVALID_ARGUMENT', 'crontab is not installed, so --daemon cron cannot keep the node in step', {
        hint: 'Install it (apt-get install -y cron), or use --daemon off and schedule `meshctl checkin` yourself',
        cause: err,
      });
    }
  }
  return mode;
}

/** Installs the chosen scheduler for `command` (the argv that runs meshctl itself). */
export async function installSchedule(runner: Runner, choice: DaemonChoice, command: string[], configDir: string, probe: ScheduleProbe = hostProbe): Promise<ScheduleResult> {
  const mode = await resolveDaemon(runner, choice);
  if (mode === 'cron' && (await probe.agentRunning(configDir))) {
    // A running agent picks up new networks by itself (it rescans every few seconds); a crontab
    // line beside it would only run check-ins the agent already does.
    return { daemon: 'agent', detail: `An agent already runs for ${configDir} and keeps this network in step; no crontab line added.` };
  }
  if (mode === 'systemd') {
    const r = await installSystemdUnit(runner, { command, configDir });
    return { daemon: 'systemd', detail: `systemd unit ${r.unitPath} enabled and started` };
  }
  if (mode === 'cron') {
    await installCronLine(runner, { command, configDir });
    if (!(await probe.cronRunning())) {
      const warning = 'no cron daemon is running on this host, so nothing runs that line: until one runs (e.g. service cron start), this node only changes when you run `meshctl checkin`; or run `meshctl agent` under your supervisor';
      return { daemon: 'cron', detail: `crontab line installed (\`meshctl checkin\` every minute), but ${warning}`, warning };
    }
    return { daemon: 'cron', detail: 'crontab line installed: `meshctl checkin` every minute' };
  }
  return { daemon: 'off', detail: offInstructions(command, configDir) };
}

/** After a leave: when no network is left, removes the unit and the crontab line join installed. */
export async function removeScheduleIfLast(runner: Runner, configDir: string, unitDir = DEFAULT_UNIT_DIR): Promise<string[]> {
  if ((await joinedNetworks(configDir)).length > 0) return [];
  const removed: string[] = [];
  if (existsSync(join(unitDir, UNIT_NAME)) && (await removeSystemdUnit(runner, unitDir))) removed.push('systemd unit');
  if (await removeCronLine(runner, configDir).catch(() => false)) removed.push('crontab line');
  return removed;
}
