/*
 * Which support-bundle job a POST created. SPS queues a new job behind any running one, and its
 * answer's shape is not settled (NOTES §3): the new job is the key that was not there before.
 */

export type NewJob =
  | { kind: 'found'; key: string }
  /** The answer named a job that was already there: list again and diff. */
  | { kind: 'list-again' }
  | { kind: 'ambiguous'; newJobs: number };

/** From the keys before the POST, the key it answered with and, when asked for, the keys after it. */
export function newBundleJob(before: readonly string[], answered: string, after?: readonly string[]): NewJob {
  if (!before.includes(answered)) return { kind: 'found', key: answered };
  if (!after) return { kind: 'list-again' };
  const fresh = after.filter((key) => !before.includes(key));
  return fresh.length === 1 ? { kind: 'found', key: fresh[0]! } : { kind: 'ambiguous', newJobs: fresh.length };
}
