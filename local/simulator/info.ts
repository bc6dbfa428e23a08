import type { Settings } from './options';
import { routesOf, type RouteModule } from './router';
import type { Sessions } from './sessions';

/* What an appliance says about itself: /api/info and /api/integrated_products. */

export interface AboutAppliance {
  readonly name: string;
  readonly firmwareVersion: string;
  /** Changes whenever the configuration does. */
  readonly configHash: string;
  readonly sessions: Sessions;
  readonly settings: Pick<Settings, 'roles' | 'integratedProducts' | 'sessionIdleSeconds' | 'starlingWarning'>;
}

/**
 * The warnings the vendor page says `GET /api/integrated_products` gives "when SPS is joined to One
 * Identity Starling, but One Identity Starling is not available" and when the credentials for it
 * are invalid. Where in the answer they appear is not documented: the simulator puts them in a
 * top-level `warnings` array of strings beside `items`. A client must look for the documented
 * texts anywhere in the answer, not only there.
 */
export const STARLING_WARNINGS = {
  unavailable:
    'Information about the integrated Starling products cannot be retrieved.\n' +
    'Check the following:\n' +
    '- The Starling cloud service is available.\n' +
    '- Your SPS appliance is connected to the Internet.',
  'invalid-credentials':
    'The credentials used for accessing Starling are invalid. This may happen because SPS was un-joined from ' +
    'Starling and restored to a previous joined state. Re-join the SPS to get valid credentials.',
} as const;

/** `domainname` of `/api/info`: a node's fqdn in `/api/cluster/status` is `<hostname>.<domainname>`. */
export const DOMAIN_NAME = 'example';

const route = routesOf<AboutAppliance>();

export const INFO_ROUTES: RouteModule<AboutAppliance> = {
  routes: [
    /*
     * "Note that part of this information is available without authentication" (vendor page): a
     * caller without a valid session (none, unknown, idle-expired, dropped by a reboot) gets the
     * anonymous view with 200, never a 401. firmware_version, version and build_date are "included
     * in the response only for authenticated users". Both views have exactly the vendor samples' fields.
     */
    route('/api/info', {
      public: true,
      GET: ({ req, now, state }) => {
        const authed = state.sessions.authenticate(req, now);
        const common = {
          domainname: DOMAIN_NAME,
          hostname: state.name,
          nickname: null,
          plugin_sdk_version: { feature: '1.4', full: '1.4.4' },
          support_link: 'mailto:sps-admin@example.com',
        };
        if (!authed) {
          return {
            kind: 'json',
            status: 200,
            body: { body: common, key: 'about_info', meta: { href: '/api/info', parent: '/api' } },
          };
        }
        const body = {
          analytics_enabled: false,
          build_date: '2026-06-15T20:18:40+00:00',
          config_hash: state.configHash,
          ...common,
          firmware_version: state.firmwareVersion,
          roles: [...state.settings.roles],
          version: `${state.firmwareVersion.split('.')[0]} LTS`,
        };
        const meta = { href: '/api/info', parent: '/api', remaining_seconds: state.settings.sessionIdleSeconds };
        return { kind: 'json', status: 200, body: { body, key: 'about_info', meta } };
      },
    }),
  ],
};

export const INTEGRATED_PRODUCTS_ROUTES: RouteModule<AboutAppliance> = {
  prefix: '/api/integrated_products',
  routes: [
    route('/api/integrated_products', {
      // The vendor samples are `{"items": [...]}` and nothing else: no meta.
      GET: ({ state }) => {
        const warning = state.settings.starlingWarning;
        const items = state.settings.integratedProducts.map((p) => ({ ...p }));
        return {
          kind: 'json',
          status: 200,
          body: warning ? { items, warnings: [STARLING_WARNINGS[warning]] } : { items },
        };
      },
    }),
  ],
};
