import { compareVersions, sameVersion } from '../../lambdas/shared/versions';

/* One rule for every version the workflows compare (README, "Versions"). */

describe('sameVersion', () => {
  it.each([
    ['8.0.1', '8.0.1'],
    ['8.0', '8.0.0'],
    [8, '8.0.0'],
    [7.5, '7.5'],
    ['7.05', '7.5'],
    ['4.3.2a', '4.3.2A'],
    [' 8.0.1 ', '8.0.1'],
    ['v8.0.1', '8.0.1'],
  ])('when the versions are %p and %p, they are the same release', (a, b) => {
    expect(sameVersion(a, b)).toBe(true);
    expect(sameVersion(b, a)).toBe(true);
  });

  it.each([
    ['8.0.1', '8.0.2'],
    ['8.0.1', '8.0.1a'],
    ['4.3.2a', '4.3.2b'],
    ['8.10', '8.1'],
    ['7.5.1', '7.5.10'],
    ['8 LTS', '8.0'],
  ])('when the versions are %p and %p, they differ', (a, b) => {
    expect(sameVersion(a, b)).toBe(false);
    expect(sameVersion(b, a)).toBe(false);
  });

  it.each([
    [null, null],
    [undefined, undefined],
    ['', ''],
    [null, '8.0.1'],
    ['8.0.1', undefined],
    ['-', '-'],
  ])('when a version is missing (%p, %p), it equals nothing', (a, b) => {
    expect(sameVersion(a, b)).toBe(false);
  });
});

describe('compareVersions', () => {
  it('orders numerically, part by part, letters after the number they follow', () => {
    const sorted = ['8.0.2', '7.10', '8.0.1a', '7.9', '8.0.1', '6.9.0'].sort(compareVersions);
    expect(sorted).toEqual(['6.9.0', '7.9', '7.10', '8.0.1', '8.0.1a', '8.0.2']);
  });
});
