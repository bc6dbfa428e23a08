import { PREFLIGHT_DEFAULTS } from '../../lambdas/shared/input';
import {
  CHECK_IDS,
  evaluatePreflight,
  overallVerdict,
  withinBounds,
  type Check,
  type Plugin,
  type PreflightFacts,
} from '../../lambdas/shared/preflight';

/* The preflight's rules: what the appliance answered in, one verdict per check out. */

const ok = <T>(value: T) => ({ ok: true as const, value });
const missing = (reason = 'not offered by this firmware (404)') => ({ ok: false as const, reason });

const plugin = (over: Partial<Plugin> = {}): Plugin => ({
  type: 'aa',
  key: 'p1',
  name: 'Mfa',
  version: '1.0',
  minVersion: '',
  maxVersion: '',
  inUse: true,
  integrity: ok({ zip_checksum: 'passed', zip_content: 'passed', unregistered: 'unavailable' }),
  ...over,
});

/** A healthy standalone appliance. */
const healthy = (): PreflightFacts => ({
  firmwareEndpoints: ok(['fetch', 'slots', 'test', 'upgrade']),
  health: ok({ diskUsedPercent: 40, integrity: { boot: 'OK', core: 'OK' }, raid: 'OK', sessionsTotal: 0 }),
  backupPolicy: ok('backup-policy-1'),
  backupEncryption: ok(true),
  plugins: ok([plugin()]),
  integratedProducts: ok({ activated: ['Starling'], warnings: [] }),
  roles: [],
  clusterInterface: ok(false),
  slots: ok([
    { id: '1', version: '7.5.1', current: true, empty: false },
    { id: '2', version: null, current: false, empty: true },
  ]),
});

const run = (facts: PreflightFacts, target: string | null = '8.0.1', options = {}) =>
  evaluatePreflight(facts, target, { ...PREFLIGHT_DEFAULTS, ...options });
const byId = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.id, c]));
const verdicts = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.id, c.verdict]));

describe('evaluatePreflight', () => {
  it('passes every check of a healthy standalone appliance, in the documented order', () => {
    const checks = run(healthy());
    expect(checks.map((c) => c.id)).toEqual(CHECK_IDS);
    expect(checks.filter((c) => c.verdict !== 'pass')).toEqual([]);
    expect(overallVerdict(checks)).toBe('pass');
    expect(byId(checks)['integrated-products']!.summary).toBe('activated: Starling');
  });

  // [case, change to the healthy appliance, options, check, verdict, summary part]
  it.each<[string, (f: PreflightFacts) => void, object, string, string, string]>([
    [
      'an endpoint missing',
      (f) => (f.firmwareEndpoints = ok(['slots', 'test'])),
      {},
      'firmware-api',
      'fail',
      'does not offer fetch, upgrade',
    ],
    [
      '95 % used',
      (f) => ((f.health as { value: { diskUsedPercent: number } }).value.diskUsedPercent = 95),
      {},
      'disk-space',
      'fail',
      'only 5 % of the disk is free',
    ],
    [
      'exactly 10 % free',
      (f) => ((f.health as { value: { diskUsedPercent: number } }).value.diskUsedPercent = 90),
      {},
      'disk-space',
      'pass',
      '10 %',
    ],
    [
      'a lower bar',
      (f) => ((f.health as { value: { diskUsedPercent: number } }).value.diskUsedPercent = 95),
      { minFreeDiskPercent: 5 },
      'disk-space',
      'pass',
      '5 % of the disk is free',
    ],
    [
      'no disk figure',
      (f) => (f.health = ok({ integrity: { core: 'OK' }, raid: 'OK', sessionsTotal: 0 })),
      {},
      'disk-space',
      'unknown',
      'no disk usage',
    ],
    [
      'a corrupted part',
      (f) => ((f.health as { value: { integrity: object } }).value.integrity = { boot: 'OK', core: 'CORRUPTED' }),
      {},
      'firmware-integrity',
      'fail',
      'core CORRUPTED',
    ],
    [
      'no RAID',
      (f) => ((f.health as { value: { raid?: string } }).value.raid = undefined),
      {},
      'raid',
      'pass',
      'no RAID',
    ],
    [
      'a degraded RAID',
      (f) => ((f.health as { value: { raid?: string } }).value.raid = 'DEGRADED'),
      {},
      'raid',
      'fail',
      'RAID status DEGRADED',
    ],
    [
      'sessions, no limit',
      (f) => ((f.health as { value: { sessionsTotal: number } }).value.sessionsTotal = 5),
      {},
      'active-sessions',
      'pass',
      '5 session(s) in progress',
    ],
    [
      'sessions over the limit',
      (f) => ((f.health as { value: { sessionsTotal: number } }).value.sessionsTotal = 5),
      { maxActiveSessions: 4 },
      'active-sessions',
      'fail',
      'more than the 4 allowed',
    ],
    [
      'sessions at the limit',
      (f) => ((f.health as { value: { sessionsTotal: number } }).value.sessionsTotal = 4),
      { maxActiveSessions: 4 },
      'active-sessions',
      'pass',
      '4 session(s)',
    ],
    ['no backup policy', (f) => (f.backupPolicy = ok(null)), {}, 'backup-policy', 'fail', 'no system backup policy'],
    [
      'no backup policy, not required',
      (f) => (f.backupPolicy = ok(null)),
      { requireBackupPolicy: false },
      'backup-policy',
      'warn',
      'no system backup policy',
    ],
    ['backups unencrypted', (f) => (f.backupEncryption = ok(false)), {}, 'backup-encryption', 'warn', 'not encrypted'],
    [
      'a plugin in use beyond its max',
      (f) => (f.plugins = ok([plugin({ maxVersion: '7.4' })])),
      {},
      'plugins-compatible',
      'fail',
      'aa plugin Mfa (supports any–7.4, in use)',
    ],
    [
      'an unused plugin beyond its max',
      (f) => (f.plugins = ok([plugin({ maxVersion: '7.4', inUse: false })])),
      {},
      'plugins-compatible',
      'warn',
      'unused',
    ],
    [
      'a plugin whose use is not reported',
      (f) => (f.plugins = ok([plugin({ type: 'credentialstore', minVersion: '8.1', inUse: undefined })])),
      {},
      'plugins-compatible',
      'fail',
      'use not reported',
    ],
    [
      'no target version',
      (f) => (f.plugins = ok([plugin()])),
      { target: null },
      'plugins-compatible',
      'unknown',
      'no target version',
    ],
    [
      'a failed integrity verdict',
      (f) => (f.plugins = ok([plugin({ integrity: ok({ zip_checksum: 'passed', zip_content: 'failed' }) })])),
      {},
      'plugin-integrity',
      'fail',
      'Mfa zip_content failed',
    ],
    [
      'integrity unreadable',
      (f) => (f.plugins = ok([plugin({ integrity: missing('refused: MissingPlugin') })])),
      {},
      'plugin-integrity',
      'unknown',
      'Mfa: refused: MissingPlugin',
    ],
    [
      'a Starling warning',
      (f) =>
        (f.integratedProducts = ok({
          activated: [],
          warnings: ['Information about the integrated Starling products cannot be retrieved.'],
        })),
      {},
      'integrated-products',
      'warn',
      'cannot be retrieved',
    ],
    [
      'a cluster role',
      (f) => (f.roles = ['managed-host', 'search-minion']),
      {},
      'cluster-membership',
      'fail',
      'roles managed-host, search-minion',
    ],
    [
      'a cluster interface on',
      (f) => (f.clusterInterface = ok(true)),
      {},
      'cluster-membership',
      'fail',
      'cluster interface on',
    ],
    [
      'a member allowed alone',
      (f) => (f.roles = ['search-local']),
      { allowClusterMember: true },
      'cluster-membership',
      'warn',
      'options.allowClusterMember',
    ],
    [
      'no empty slot',
      (f) => (f.slots = ok([{ id: '1', version: '7.5.1', current: true, empty: false }])),
      {},
      'empty-slot',
      'fail',
      'no empty slot',
    ],
    [
      'no empty slot, freeOldestSlot',
      (f) => (f.slots = ok([{ id: '1', version: '7.5.1', current: true, empty: false }])),
      { freeOldestSlot: true },
      'empty-slot',
      'warn',
      'frees the oldest',
    ],
    [
      'the target already in a slot',
      (f) => (f.slots = ok([{ id: '3', version: '8.0.1', current: false, empty: false }])),
      {},
      'empty-slot',
      'pass',
      'slot 3 already holds 8.0.1',
    ],
  ])('%s', (_case, change, options, id, verdict, summary) => {
    const facts = healthy();
    change(facts);
    const { target, ...rest } = options as { target?: string | null };
    const checks = run(facts, target === undefined ? '8.0.1' : target, rest);
    expect(byId(checks)[id]).toEqual({ id, verdict, summary: expect.stringContaining(summary) });
    // Nothing else changed its verdict.
    const others = checks.filter((c) => c.id !== id && c.verdict !== 'pass');
    expect(others).toEqual([]);
  });

  it('reports what it could not read as unknown with the reason, every check that needs it', () => {
    const facts = healthy();
    facts.health = missing();
    facts.backupPolicy = missing("the user's group may not read it (403)");
    const checks = verdicts(run(facts));
    expect(checks).toMatchObject({
      'disk-space': 'unknown',
      'firmware-integrity': 'unknown',
      raid: 'unknown',
      'active-sessions': 'unknown',
      'backup-policy': 'unknown',
    });
    expect(byId(run(facts))['backup-policy']!.summary).toBe("the user's group may not read it (403)");
    // Unknown is never passed silently: it counts as a warning.
    expect(overallVerdict(run(facts))).toBe('warn');
  });
});

describe('overallVerdict', () => {
  const c = (verdict: Check['verdict']): Check => ({ id: 'raid', verdict, summary: '' });
  it.each<[Check['verdict'][], string]>([
    [['pass', 'pass'], 'pass'],
    [['pass', 'warn'], 'warn'],
    [['pass', 'unknown'], 'warn'],
    [['warn', 'fail', 'unknown'], 'fail'],
    [[], 'pass'],
  ])('%j → %s', (list, expected) => expect(overallVerdict(list.map(c))).toBe(expected));
});

describe('withinBounds', () => {
  it.each<[string, string | undefined, string | undefined, boolean]>([
    ['8.0.1', '', '', true],
    ['8.0.1', undefined, undefined, true],
    ['8.0.1', '7.0', '', true],
    ['8.0.1', '8.1', '', false],
    ['8.0.1', '', '8.0', true], // "8.0" is the 8.0 line
    ['8.0.1', '', '8', true],
    ['8.1.0', '', '8.0', false],
    ['8.0.1', '', '7.4', false],
    ['7.4.2', '', '7.4', true],
    ['8.0.1', '8.0.1', '8.0.1', true],
    ['8.0.0', '8.0.1', '', false],
  ])('%s within %j–%j: %s', (target, min, max, expected) => expect(withinBounds(target, min, max)).toBe(expected));
});
