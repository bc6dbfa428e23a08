export { type Fault } from './faults';
export {
  type ApplianceChecklist,
  type ApplianceOptions,
  type IntegratedProduct,
  type OperatorFetch,
  type PluginOptions,
} from './options';
export { SCENARIOS, type ScenarioName } from './scenarios';
export { CLUSTER_ROLES, SEARCH_ROLES, clusterAppliances, clusterProblems, clusterRoles } from './cluster';
export { SimClock } from './clock';
export { bundleSha256 } from './content';
export {
  startSimulator,
  Journal,
  type JournalEntry,
  type SimulatedAppliance,
  type Simulator,
  type SimulatorOptions,
} from './server';
