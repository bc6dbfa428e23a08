import { error, type SimAction, type SimRequest } from '../answers';
import { routesOf, type RouteModule } from '../router';
import type { PreflightState } from './state';

/*
 * The configuration the checklist reads: the system backup policy, its encryption, and the
 * cluster interface (vendor pages in docs/cluster-interface-and-system-backup.txt). Answers carry
 * the samples' meta links; the session's `remaining_seconds` joins them.
 */

const TRANSACTION = '/api/transaction';
const MANAGEMENT = '/api/configuration/management';

/** The sample's GPG key (the vendor page elides its middle). */
const GPG_PUBLIC_KEY = {
  fingerprint: '2F2E3967EDAD2F288E54EE8693B99C4F545B7670',
  public_key:
    '-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQGNBF3rnZ0BDADHdz5/kCkrl7T8w861AGGXdGK/lwxunTCx6tfhSsFREWmKjhfr\n' +
    '23YDiM21csIaqX+XDGMex5Hq4PMhO7cqSMyB\n=j20J\n-----END PGP PUBLIC KEY BLOCK-----\n',
  uids: ['Demo User <example@oneidentity.com>'],
};

/** The NIC address the sample's cluster interface listens on. */
const LISTEN_ADDRESS = {
  key: 'nic1.interfaces.ff7574025754b3df1647001.addresses.2553887595ce3ca7f1eae4',
  meta: {
    href: '/api/configuration/network/nics/nic1#interfaces/ff7574025754b3df1647001/addresses/2553887595ce3ca7f1eae4',
  },
};

/** A user without the privilege for the configuration: 403 Unauthorized for anything under it (vendor tables). */
export function privilegeRequired(req: SimRequest, state: PreflightState): SimAction | undefined {
  const { path } = req;
  if (state.settings.configurationPrivilege) return undefined;
  if (path !== '/api/configuration' && !path.startsWith('/api/configuration/')) return undefined;
  return error(
    403,
    'Unauthorized',
    'The requested resource cannot be retrieved because the client is not authorized to access it',
    { path },
    path,
  );
}

const route = routesOf<PreflightState>();

// No prefix: the simulator serves a few leaves of the configuration tree; any other path is a 404.
export const CONFIGURATION_ROUTES: RouteModule<PreflightState> = {
  routes: [
    route(`${MANAGEMENT}/system_backup`, {
      GET: ({ state, ok }) =>
        ok({
          // No policy set: null (the docs do not show this case; a client must also accept "" or no key).
          body: { backup_policy: state.settings.backupPolicy },
          key: 'system_backup',
          meta: {
            first: `${MANAGEMENT}/certificates`,
            href: `${MANAGEMENT}/system_backup`,
            last: `${MANAGEMENT}/webinterface`,
            next: `${MANAGEMENT}/universal_siem_forwarder`,
            parent: MANAGEMENT,
            previous: `${MANAGEMENT}/syslog`,
            transaction: TRANSACTION,
          },
        }),
    }),

    // The page's URL line says /api/management/…, its curl line and meta.href /api/configuration/management/…:
    // the simulator serves the latter only.
    route(`${MANAGEMENT}/exported_configuration_encryption`, {
      GET: ({ state, ok }) =>
        ok({
          body: {
            encryption: state.settings.backupEncryption
              ? { enabled: true, gpg_public_key: GPG_PUBLIC_KEY }
              : // inferred: the docs show only an enabled encryption
                { enabled: false, gpg_public_key: null },
          },
          key: 'exported_configuration_encryption',
          meta: {
            first: `${MANAGEMENT}/certificates`,
            href: `${MANAGEMENT}/exported_configuration_encryption`,
            last: `${MANAGEMENT}/webinterface`,
            next: `${MANAGEMENT}/health_monitoring`,
            parent: MANAGEMENT,
            previous: `${MANAGEMENT}/email`,
            transaction: TRANSACTION,
          },
        }),
    }),

    route('/api/configuration/local_services/cluster', {
      GET: ({ state, ok }) =>
        ok({
          body: {
            enabled: state.settings.clusterInterface,
            // inferred: a disabled interface listens nowhere (the docs show only an enabled one)
            listen_address: state.settings.clusterInterface ? LISTEN_ADDRESS : null,
          },
          key: 'cluster',
          meta: {
            first: '/api/configuration/local_services/admin_web',
            href: '/api/configuration/local_services/cluster',
            last: '/api/configuration/local_services/user_web',
            next: '/api/configuration/local_services/indexer',
            parent: '/api/configuration/local_services',
            previous: '/api/configuration/local_services/analytics',
            transaction: TRANSACTION,
          },
        }),
    }),
  ],
};
