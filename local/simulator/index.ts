export {
  SCENARIOS,
  type ApplianceOptions,
  type Fault,
  type IntegratedProduct,
  type OperatorFetch,
  type ScenarioName,
} from './appliance';
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
