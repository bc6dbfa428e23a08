import { clusterOrder, nextChange, planWaves, windowOpen, type MaintenanceWindow } from '../../lambdas/shared/rollout';

/* The rollout rules: the vendor's cluster order, the waves, the maintenance window. */

describe('clusterOrder', () => {
  it("follows the vendor's order: search minions, other managed hosts, central management, search master", () => {
    const nodes = [
      { name: 'cm', roles: ['central-management'] },
      { name: 'master', roles: ['search-master', 'managed-host'] },
      { name: 'minion-1', roles: ['search-minion', 'managed-host'] },
      { name: 'host', roles: ['managed-host', 'search-local'] },
      { name: 'minion-2', roles: ['search-minion'] },
    ];
    expect(clusterOrder(nodes).map((n) => n.name)).toEqual(['minion-1', 'minion-2', 'host', 'cm', 'master']);
  });

  it('upgrades a central management node that is also the search master last', () => {
    const nodes = [
      { name: 'cm-master', roles: ['central-management', 'search-master'] },
      { name: 'minion', roles: ['search-minion'] },
      { name: 'host', roles: ['managed-host', 'search-local'] },
    ];
    expect(clusterOrder(nodes).map((n) => n.name)).toEqual(['minion', 'host', 'cm-master']);
  });
});

describe('planWaves', () => {
  const standalone = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `sps-${i + 1}`, roles: [] }));
  const cluster = [
    { name: 'cm', cluster: 'east', roles: ['central-management', 'search-master'] },
    { name: 'minion', cluster: 'east', roles: ['search-minion'] },
  ];

  it('canaries first, then the rest maxConcurrency at a time, then each cluster in order', () => {
    expect(planWaves([...cluster, ...standalone(6)], 1, 2)).toEqual([
      { kind: 'canary', appliances: ['sps-1'] },
      { kind: 'standalone', appliances: ['sps-2', 'sps-3'] },
      { kind: 'standalone', appliances: ['sps-4', 'sps-5'] },
      { kind: 'standalone', appliances: ['sps-6'] },
      { kind: 'cluster', cluster: 'east', appliances: ['minion', 'cm'] },
    ]);
  });

  it('has no canary wave with canary 0, and never makes a cluster node a canary', () => {
    expect(planWaves(cluster, 3, 4).map((w) => w.kind)).toEqual(['cluster']);
    expect(planWaves(standalone(2), 0, 4)).toEqual([{ kind: 'standalone', appliances: ['sps-1', 'sps-2'] }]);
  });
});

describe('maintenance window', () => {
  const weekend: MaintenanceWindow = {
    days: ['Sat', 'Sun'],
    start: '22:00',
    end: '04:00',
    timeZone: 'Europe/Budapest',
  };
  // Budapest is UTC+1 in December.
  it.each([
    ['Saturday 22:30 local', '2026-12-05T21:30:00Z', true],
    ['Saturday 21:59 local', '2026-12-05T20:59:00Z', false],
    ['Sunday 03:59 local (the night after Saturday)', '2026-12-06T02:59:00Z', true],
    ['Sunday 04:00 local (closed)', '2026-12-06T03:00:00Z', false],
    ['Monday 02:00 local (the night after Sunday)', '2026-12-07T01:00:00Z', true],
    ['Tuesday 02:00 local', '2026-12-08T01:00:00Z', false],
    ['Friday 23:00 local', '2026-12-04T22:00:00Z', false],
  ])('across midnight: %s is %s', (_case, at, open) => {
    expect(windowOpen(weekend, new Date(at))).toBe(open);
  });

  it('within a day: from start to end, on its days only', () => {
    const office: MaintenanceWindow = { days: ['Wed'], start: '09:00', end: '11:30', timeZone: 'UTC' };
    expect(windowOpen(office, new Date('2026-12-02T09:00:00Z'))).toBe(true);
    expect(windowOpen(office, new Date('2026-12-02T11:30:00Z'))).toBe(false);
    expect(windowOpen(office, new Date('2026-12-03T10:00:00Z'))).toBe(false);
  });

  it('tells when it opens next and when it closes', () => {
    const friday = new Date('2026-12-04T10:00:00Z');
    expect(nextChange(weekend, friday, 'open')?.toISOString()).toBe('2026-12-05T21:00:00.000Z');
    const inside = new Date('2026-12-05T23:10:30Z');
    expect(nextChange(weekend, inside, 'open')).toBe(inside);
    expect(nextChange(weekend, inside, 'closed')?.toISOString()).toBe('2026-12-06T03:00:00.000Z');
    expect(nextChange({ ...weekend, days: [] }, friday, 'open')).toBeUndefined();
  });

  it('follows the time zone across a daylight-saving change', () => {
    // 29 March 2026: Budapest moves from UTC+1 to UTC+2 at 02:00 local.
    const sunday: MaintenanceWindow = { days: ['Sun'], start: '03:00', end: '05:00', timeZone: 'Europe/Budapest' };
    expect(windowOpen(sunday, new Date('2026-03-29T01:00:00Z'))).toBe(true); // 03:00 CEST
    expect(windowOpen(sunday, new Date('2026-03-29T00:30:00Z'))).toBe(false); // 01:30 CET
  });
});
