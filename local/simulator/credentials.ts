import type { SimulatedAppliance, Simulator } from './server';

/**
 * The credentials secret of a simulated appliance, as `run --secrets` and the tests read it: its
 * registry entry, naming its endpoint (plain HTTP only when the simulator serves it, explicitly)
 * and, for the node of a cluster, the cluster.
 */
export function simulatedCredentials(sim: Pick<Simulator, 'caPem'>, appliance: SimulatedAppliance) {
  const plainHttp = appliance.endpoint.startsWith('http:');
  return {
    endpoint: appliance.endpoint,
    username: appliance.username,
    password: appliance.password,
    ...(plainHttp ? { allowPlainHttp: true } : { caCertificate: sim.caPem }),
    ...(appliance.cluster === undefined ? {} : { cluster: appliance.cluster }),
  };
}
