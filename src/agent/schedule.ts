// What keeps a node in step after join: a systemd unit running `meshctl agent`, a crontab line
// running `meshctl checkin`, or nothing (the operator schedules it). Leave of the last network
// removes what join installed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Runner } from '../platform/runner.ts';
import {
  detectDaemonMode, installSystemdUnit, removeSystemdUnit, installCronLine, removeCronLine, offInstructions,
  DEFAULT_UNIT_DIR, UNIT_NAME,
} from '../platform/service.ts';
import { joinedNetworks } from './state.ts';

export type DaemonChoice = 'systemd' | 'cron' | 'off' | 'auto';

export interface ScheduleResult {
  daemon: 'systemd' | 'cron' | 'off';
  detail: string;
}

/** Installs the chosen scheduler for `command` (the argv that runs meshctl itself). */
export async function installSchedule(runner: Runner, choice: DaemonChoice, command: string[], configDir: string): Promise<ScheduleResult> {
  const mode = choice === 'auto' ? await detectDaemonMode(runner) : choice;
  if (mode === 'systemd') {
    const r = await installSystemdUnit(runner, { command, configDir });
    return { daemon: 'systemd', detail: `systemd unit ${r.unitPath} enabled and started` };
  }
  if (mode === 'cron') {
    await installCronLine(runner, { command, configDir });
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
