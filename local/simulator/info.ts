import type { Settings } from './options';
import { routesOf, type RouteModule } from './router';
import type { Sessions } from './sessions';

/* What an appliance says about itself: /api/info and /api/integrated_products. */

export interface AboutAppliance {
  readonly name: string;
  readonly firmwareVersion: string;
  readonly sessions: Sessions;
  readonly settings: Pick<Settings, 'roles' | 'integratedProducts' | 'sessionIdleSeconds'>;
}

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
          domainname: 'example',
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
          config_hash: '2abde4c81d9b544bf53fae4f4b9657fc',
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
      GET: ({ state }) => ({
        kind: 'json',
        status: 200,
        body: { items: state.settings.integratedProducts.map((p) => ({ ...p })) },
      }),
    }),
  ],
};
