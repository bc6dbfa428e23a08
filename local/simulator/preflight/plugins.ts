import { error, unknownPath } from '../answers';
import { INTEGRITY_CHECKS, PLUGIN_TYPES, type IntegrityCheck, type Verdict } from '../options';
import { routesOf, type RouteModule } from '../router';
import { PLUGIN_KEY, type Plugin, type PreflightState } from './state';

/*
 * Uploaded plugins, the AA plugin instances that use them, and the plugin integrity check (vendor
 * pages in docs/plugins.txt). Lists and objects carry the samples' meta links; the integrity answer
 * is the sample's bare `{"body": …}`.
 */

const TRANSACTION = '/api/transaction';
const PLUGINS = '/api/configuration/plugins';
const INSTANCES = '/api/configuration/policies/aa_plugin_instances';
/** The types `GET /api/plugin/integrity` checks (the vendor page's list). */
const INTEGRITY_TYPES: readonly string[] = PLUGIN_TYPES.filter((t) => t !== 'ticketing');

/** first/last/next/previous among the hrefs of one list, as the samples link an object to its siblings. */
function siblings(hrefs: string[], href: string) {
  const i = hrefs.indexOf(href);
  return { first: hrefs[0], href, last: hrefs.at(-1), next: hrefs[i + 1] ?? null, previous: hrefs[i - 1] ?? null };
}

const pluginHref = (p: Plugin) => `${PLUGINS}/${p.type}/${p.key}`;
const instanceHref = (p: Plugin) => `${INSTANCES}/${p.instanceKey}`;
const instanceName = (p: Plugin) => `${p.name.replace(/\W/g, '_')}_instance`;

const NO_CHECKER = (op: string) => `Cannot find checker. Make sure that you use an existing checker: ${op}`;
/** The sample's reasons; the others are inferred. */
const REASONS: Record<IntegrityCheck, Record<Verdict, string>> = {
  zip_checksum: {
    passed: 'Plugin .zip checksums match',
    failed: 'Plugin .zip checksums do not match',
    unavailable: NO_CHECKER('zip_checksum'),
  },
  zip_content: {
    passed: 'The plugin runtime files are the same since you have uploaded the plugin .zip',
    failed: 'The plugin runtime files have changed since you have uploaded the plugin .zip',
    unavailable: NO_CHECKER('zip_content'),
  },
  unregistered: {
    passed: 'The plugin is registered by One Identity',
    failed: 'The plugin is not registered by One Identity',
    unavailable: NO_CHECKER('unregistered'),
  },
};
const isCheck = (op: string): op is IntegrityCheck => (INTEGRITY_CHECKS as readonly string[]).includes(op);

const route = routesOf<PreflightState>();

// No prefix: an unknown type, plugin or instance is the 404 any unknown path gets (NotFound).
export const PLUGIN_ROUTES: RouteModule<PreflightState> = {
  routes: [
    route(`${PLUGINS}/:type`, {
      GET: ({ req, state, params, ok }) => {
        const type = params.type!;
        if (!(PLUGIN_TYPES as readonly string[]).includes(type)) return unknownPath(req.path);
        return ok({
          items: state.pluginsOf(type).map((p) => ({ key: p.key, meta: { href: pluginHref(p) } })),
          meta: {
            ...siblings(
              PLUGIN_TYPES.map((t) => `${PLUGINS}/${t}`),
              `${PLUGINS}/${type}`,
            ),
            parent: PLUGINS,
            transaction: TRANSACTION,
          },
        });
      },
    }),
    route(`${PLUGINS}/:type/:key`, {
      GET: ({ req, state, params, ok }) => {
        const list = state.pluginsOf(params.type!);
        const p = list.find((x) => x.key === params.key);
        if (!p) return unknownPath(req.path);
        return ok({
          body: {
            api: '1.0',
            description: `${p.name} ${p.version}`,
            name: p.name,
            version: p.version,
            path: `/opt/scb/var/plugins/${p.name.toLowerCase()}`,
            scb_max_version: p.scbMaxVersion,
            scb_min_version: p.scbMinVersion,
            default_configuration: '',
            entry_point: null,
            sha256sum: p.sha256sum,
          },
          key: p.key,
          meta: {
            ...siblings(list.map(pluginHref), pluginHref(p)),
            parent: `${PLUGINS}/${p.type}`,
            transaction: TRANSACTION,
          },
        });
      },
    }),

    route(INSTANCES, {
      // The sample's items are bare instances, `plugin` the plugin's key (no key or meta per item).
      GET: ({ state, ok }) =>
        ok({
          items: state.inUse().map((p) => ({ name: instanceName(p), configuration: '[plugin]\n', plugin: p.key })),
          meta: {
            first: INSTANCES,
            href: INSTANCES,
            last: '/api/configuration/policies/usermapping_policies',
            next: '/api/configuration/policies/analytics',
            parent: '/api/configuration/policies',
            previous: null,
            transaction: TRANSACTION,
          },
        }),
    }),
    route(`${INSTANCES}/:key`, {
      GET: ({ req, state, params, ok }) => {
        const list = state.inUse();
        const p = list.find((x) => x.instanceKey === params.key);
        if (!p) return unknownPath(req.path);
        return ok({
          body: {
            configuration: '[plugin]\n',
            name: instanceName(p),
            plugin: { key: p.key, meta: { href: pluginHref(p) } },
          },
          key: p.instanceKey,
          meta: { ...siblings(list.map(instanceHref), instanceHref(p)), parent: INSTANCES, transaction: TRANSACTION },
        });
      },
    }),

    route('/api/plugin/integrity', {
      GET: ({ req, state }) => {
        const { path, query } = req;
        const key = query.get('key');
        const type = query.get('plugin_type');
        const ops = [...new Set(query.getAll('ops').filter(Boolean))];
        const missing = [...(key ? [] : ['key']), ...(type ? [] : ['plugin_type']), ...(ops.length ? [] : ['ops'])];
        if (missing.length) {
          return error(
            400,
            'MissingMandatoryParameter',
            'One of the following keys is missing: key, plugin_type, ops',
            { missing_parameters: missing },
            path,
          );
        }
        if (!PLUGIN_KEY.test(key!)) {
          return error(400, 'InvalidFormat', 'The key is not valid plugin key', { parameter: 'key', value: key }, path);
        }
        // inferred: the docs name no error for an unknown plugin_type; as strict as a malformed key.
        if (!INTEGRITY_TYPES.includes(type!)) {
          return error(
            400,
            'InvalidFormat',
            'The plugin_type is not valid',
            { parameter: 'plugin_type', value: type },
            path,
          );
        }
        const p = state.pluginsOf(type!).find((x) => x.key === key);
        if (!p) {
          return error(
            404,
            'MissingPlugin',
            'The plugin is not found in the configuration',
            { key, plugin_type: type },
            path,
          );
        }
        // Each check asked for, in the order asked; an unknown one is "unavailable", as in the sample.
        const body = Object.fromEntries(
          ops.map((op) => {
            if (!isCheck(op)) return [op, { verdict: 'unavailable', reason: NO_CHECKER(op) }];
            const verdict = p.integrity[op];
            return [op, { verdict, reason: REASONS[op][verdict] }];
          }),
        );
        return { kind: 'json', status: 200, body: { body } };
      },
    }),
  ],
};
