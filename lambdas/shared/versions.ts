/*
 * SPS firmware versions, compared in one place. They arrive as slot `version` (a string in the
 * vendor samples, typed "number" in the field table), as `/api/info` `firmware_version` ("5.7.0",
 * "4.3.2a") and as the user's `expectedVersion`. Two versions are equal when their parts are:
 * numbers compare as numbers ("7.05" = "7.5"), trailing zero parts do not count ("8.0" = "8.0.0",
 * so a slot version sent as the number 8 equals "8.0.0"), letters compare without case ("4.3.2A" =
 * "4.3.2a") and a leading "v" is ignored. A missing version (null, undefined, "") equals nothing,
 * not even another missing one.
 */

type Part = number | string;

function parts(version: string): Part[] {
  const tokens = version
    .trim()
    .toLowerCase()
    .replace(/^v(?=\d)/, '')
    .match(/\d+|[a-z]+/g);
  const list: Part[] = (tokens ?? []).map((t) => (/^\d/.test(t) ? Number(t) : t));
  while (list.length > 1 && list[list.length - 1] === 0) list.pop();
  return list;
}

const present = (v: string | number | null | undefined): v is string | number =>
  v !== null && v !== undefined && String(v).trim() !== '';

/** Orders versions part by part: numbers before letters ("8.0.1" < "8.0.1a" < "8.0.2"). */
export function compareVersions(a: string | number, b: string | number): number {
  const pa = parts(String(a));
  const pb = parts(String(b));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** Whether two versions are the same release; false when either is missing. */
export function sameVersion(a: string | number | null | undefined, b: string | number | null | undefined): boolean {
  return present(a) && present(b) && parts(String(a)).length > 0 && compareVersions(a, b) === 0;
}
