import { version } from '../../package.json';

/** Sent on every SPS request: SPS ≥ 7.5 demands an X-Token from browser-like clients only. */
export const USER_AGENT = `sps-workflows/${version}`;
