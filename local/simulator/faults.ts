import { error, serviceUnavailable, type SimAction, type SimRequest } from './answers';
import type { Behaviour } from './scenarios';

/** `lost-answer`: the request is carried out, then the connection resets before the answer. */
export type FaultKind = 'http-503' | 'http-500-json' | 'reset' | 'truncate' | 'hang' | 'lost-answer';
export interface Fault {
  method?: string;
  path?: RegExp | string;
  kind: FaultKind;
  times?: number;
}

const pathMatches = (fault: Fault, req: SimRequest) =>
  !fault.path || (typeof fault.path === 'string' ? req.path === fault.path : fault.path.test(req.path));

/** The faults tests inject into one appliance, and the flaky scenarios' bursts. */
export class Faults {
  private readonly injected: Array<Fault & { left: number }> = [];
  private flakyCount = 0;
  private flakyBurst = 0;

  inject(fault: Fault): void {
    this.injected.push({ ...fault, left: fault.times ?? 1 });
  }

  /** The answer of an injected fault that replaces the request's (taken before anything else). */
  take(req: SimRequest): SimAction | undefined {
    const f = this.match(req, (kind) => kind !== 'truncate' && kind !== 'lost-answer');
    if (!f) return undefined;
    switch (f.kind) {
      case 'http-503':
        return serviceUnavailable;
      case 'http-500-json':
        return error(500, 'InternalError', 'Internal server error', {}, req.path);
      case 'reset':
        return { kind: 'reset' };
      case 'hang':
        return { kind: 'hang' };
      case 'truncate':
      case 'lost-answer':
        return undefined; // applied by the download route, or after the request is carried out
    }
  }

  /** Whether the answer to a request that was carried out is lost (a `lost-answer` fault). */
  losesAnswer(req: SimRequest): boolean {
    return this.match(req, (kind) => kind === 'lost-answer') !== undefined;
  }

  /** Whether a download breaks off halfway (a `truncate` fault; its path counts, its method does not). */
  truncates(req: SimRequest): boolean {
    const i = this.injected.findIndex((f) => f.kind === 'truncate' && pathMatches(f, req));
    if (i < 0) return false;
    this.countDown(i);
    return true;
  }

  /** flaky-5xx / connection-resets: on every 4th GET or DELETE, a burst of two failures. */
  flaky(req: SimRequest, behaviour: Behaviour): SimAction | undefined {
    if (!behaviour.flaky) return undefined;
    if ((req.method !== 'GET' && req.method !== 'DELETE') || req.path === '/api/authentication') return undefined;
    const failure: SimAction = behaviour.flaky === 'http-503' ? serviceUnavailable : { kind: 'reset' };
    if (this.flakyBurst > 0) {
      this.flakyBurst--;
      return failure;
    }
    if (++this.flakyCount % 4 === 0) {
      this.flakyBurst = 1;
      return failure;
    }
    return undefined;
  }

  /** Takes (counts down) the first fault of an accepted kind that matches the request. */
  private match(req: SimRequest, accept: (kind: FaultKind) => boolean): Fault | undefined {
    const i = this.injected.findIndex(
      (f) => accept(f.kind) && (!f.method || f.method === req.method) && pathMatches(f, req),
    );
    if (i < 0) return undefined;
    return this.countDown(i);
  }

  private countDown(i: number): Fault {
    const f = this.injected[i]!;
    if (--f.left <= 0) this.injected.splice(i, 1);
    return f;
  }
}
