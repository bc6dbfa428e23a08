import { error, unknownPath, type SimAction, type SimRequest } from './answers';

/*
 * The route table: method + path pattern → handler. Each concern (sessions, info, firmware,
 * support bundles) declares its routes once, against its own state; the appliance mounts them
 * with a selector of that state. Tables are built once per process, not per appliance.
 */

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
type Method = (typeof METHODS)[number];
const isMethod = (method: string): method is Method => (METHODS as readonly string[]).includes(method);

/** One request as a handler sees it. */
export interface Call<S> {
  readonly req: SimRequest;
  readonly now: number;
  readonly state: S;
  /** The path's `:name` segments (undecoded, as the appliance compares them). */
  readonly params: Readonly<Record<string, string>>;
  /** The parsed JSON body (undefined without one, and on public routes). */
  readonly body: Record<string, unknown> | undefined;
  /** A 2xx answer; the session's meta (`remaining_seconds`) joins the payload's. */
  ok(payload: Record<string, unknown>, status?: number): SimAction;
  /** `ResourceNotFound`, naming the mount point and the resource (vendor samples). */
  notFound(mount: string, resource: string): SimAction;
}

type Handler<S, T> = (call: Call<S>, item: T) => SimAction;

export type RouteSpec<S, T> = { [M in Method]?: Handler<S, T> } & {
  /** Answered before the session check, without reading a body (login, the anonymous /api/info). */
  public?: boolean;
  /**
   * Looks up the addressed item before the method is considered: an unknown item is a 404
   * (ResourceNotFound, with `mount` and the resource, by default `:key`) whatever the method.
   */
  find?: { item: (call: Call<S>) => T | undefined; mount: string; resource?: (params: Call<S>['params']) => string };
};

export interface Route<S> {
  readonly public: boolean;
  match(path: string): Record<string, string> | undefined;
  /** Undefined when the route does not serve the request's method. */
  answer(call: Call<S>): SimAction | undefined;
}

/** A module's routes: the paths under `prefix` are its own (an unserved method or path there is 405). */
export interface RouteModule<S> {
  readonly prefix?: string;
  readonly routes: ReadonlyArray<Route<S>>;
}

function compile(path: string): (path: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
      names.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  const re = new RegExp(`^${source}$`);
  return (candidate) => {
    const m = re.exec(candidate);
    return m ? Object.fromEntries(names.map((name, i) => [name, m[i + 1]!])) : undefined;
  };
}

/** The route factory of a module whose handlers work on `S`: `const route = routesOf<Firmware>()`. */
export const routesOf =
  <S>() =>
  <T = undefined>(path: string, spec: RouteSpec<S, T>): Route<S> => ({
    public: spec.public ?? false,
    match: compile(path),
    answer(call) {
      let item: T | undefined;
      if (spec.find) {
        item = spec.find.item(call);
        if (item === undefined) {
          return call.notFound(spec.find.mount, spec.find.resource?.(call.params) ?? call.params.key!);
        }
      }
      const handler = isMethod(call.req.method) ? spec[call.req.method] : undefined;
      return handler?.(call, item as T);
    },
  });

export class Router<A> {
  private readonly routes: Array<Route<A>> = [];
  private readonly prefixes: string[] = [];

  /** Adds a module's routes; `select` picks the state they work on out of the appliance's. */
  mount<S>(module: RouteModule<S>, select: (appliance: A) => S): this {
    if (module.prefix) this.prefixes.push(module.prefix);
    for (const route of module.routes) {
      this.routes.push({
        public: route.public,
        match: (path) => route.match(path),
        answer: (call) => route.answer({ ...call, state: select(call.state) }),
      });
    }
    return this;
  }

  /** The answer of a public route, if the request is for one. */
  public(req: SimRequest, now: number, appliance: A): SimAction | undefined {
    return this.dispatch(req, now, appliance, undefined, {}, true);
  }

  /** The answer to an authenticated request; 405 or 404 when no route serves it. */
  route(
    req: SimRequest,
    now: number,
    appliance: A,
    body: Record<string, unknown> | undefined,
    meta: Record<string, unknown>,
  ): SimAction {
    const answer = this.dispatch(req, now, appliance, body, meta, false);
    if (answer) return answer;
    const { path } = req;
    const known = this.prefixes.some((prefix) => path.startsWith(prefix));
    return known ? error(405, 'MethodNotAllowed', 'Method not allowed', { path }, path) : unknownPath(path);
  }

  private dispatch(
    req: SimRequest,
    now: number,
    appliance: A,
    body: Record<string, unknown> | undefined,
    meta: Record<string, unknown>,
    publicOnly: boolean,
  ): SimAction | undefined {
    const { path } = req;
    for (const route of this.routes) {
      if (publicOnly && !route.public) continue;
      const params = route.match(path);
      if (!params) continue;
      const answer = route.answer({
        req,
        now,
        state: appliance,
        params,
        body,
        ok: (payload, status = 200) => ({
          kind: 'json',
          status,
          body: { ...payload, meta: { ...(payload.meta as object), ...meta } },
        }),
        notFound: (mount, resource) =>
          error(404, 'ResourceNotFound', 'Resource was not found', { mount_point: mount, resource }, path),
      });
      if (answer) return answer;
    }
    return undefined;
  }
}
