import { loadDefinition, runWorkflow, type HistoryEvent } from '../local/engine/engine';
import { clusterAppliances } from '../local/simulator';
import { FIRMWARE_URL, SHA256, startHarness } from '../test/helpers/workflow';
import type { Figure } from './figures';
import { costLine, costUsd, meter } from './cost';

/*
 * A fleet upgrade of 50 simulated appliances (40 standalone, two 5-node clusters) in compressed
 * time: its wall time on this machine, and the size of the fleet execution's own history as Step
 * Functions would write it (children excluded: each has its own).
 */

type StateDef = { Type: string; Resource?: string; ItemProcessor?: { States: Record<string, StateDef> } };

/** Every state by name, those inside a Map included (names are unique in a state machine). */
function statesOf(states: Record<string, StateDef>): Map<string, StateDef> {
  const all = new Map<string, StateDef>();
  for (const [name, state] of Object.entries(states)) {
    all.set(name, state);
    if (state.ItemProcessor) for (const [n, s] of statesOf(state.ItemProcessor.States)) all.set(n, s);
  }
  return all;
}

/**
 * The events Step Functions writes for each state entered (its documented history event types):
 * a Lambda task 5 (entered, scheduled, started, succeeded or failed, exited), any other task 6 (…,
 * submitted, …), a Map 4 and 2 per iteration, anything else 2; the execution's start and end 2.
 */
export function awsHistoryEvents(workflow: 'fleet-upgrade', events: readonly HistoryEvent[]): number {
  const states = statesOf(loadDefinition(workflow).definition.States as unknown as Record<string, StateDef>);
  let count = 2;
  for (const e of events) {
    if (e.type === 'MapIterationStarted') count += 2;
    if (e.type !== 'StateEntered' || !e.state) continue;
    const state = states.get(e.state.name);
    if (state?.Type === 'Task') count += state.Resource?.startsWith('arn:aws:lambda:') ? 5 : 6;
    else if (state?.Type === 'Map') count += 4;
    else count += 2;
  }
  return count;
}

export async function fleetFigures(log: (line: string) => void): Promise<Figure[]> {
  const standalone = Array.from({ length: 40 }, (_, i) => ({ name: `sps-${String(i + 1).padStart(2, '0')}` }));
  const h = await startHarness([...standalone, ...clusterAppliances('east', 5), ...clusterAppliances('west', 5)], {
    s3: true,
  });
  try {
    const m = meter();
    const started = performance.now();
    const result = await runWorkflow({
      workflow: 'fleet-upgrade',
      input: { firmware: { url: FIRMWARE_URL, sha256: SHA256, expectedVersion: '8.0.1' } },
      ...m.watch(h),
      wait: async (seconds) => h.sim.clock.advance(seconds * 1000),
    });
    const seconds = (performance.now() - started) / 1000;
    if (result.status !== 'SUCCEEDED') throw new Error(`fleet upgrade failed: ${result.error} ${result.cause}`);
    const events = awsHistoryEvents('fleet-upgrade', result.events);
    const perAppliance = events / 50;
    log(
      `fleet: 50 appliances in ${seconds.toFixed(1)} s wall; ${events} history events in the fleet execution (${perAppliance.toFixed(1)} per appliance)`,
    );
    log(costLine('fleet cost (50 appliances)', m.usage()));
    return [
      { name: 'fleet.cost_usd_50', value: Math.round(costUsd(m.usage()) * 1e4) / 1e4, unit: 'USD' },
      { name: 'fleet.wall_s_50', value: Math.round(seconds * 10) / 10, unit: 's', bar: '<= 60' },
      {
        name: 'fleet.parent_events_per_appliance',
        value: Math.round(perAppliance * 10) / 10,
        unit: 'count',
        bar: '<= 15',
      },
    ];
  } finally {
    await h.close();
  }
}
