import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SimRequest } from './answers';
import { Appliance } from './appliance';
import { Cluster } from './cluster';
import type { Fault } from './faults';
import type { ApplianceOptions, IntegratedProduct, OperatorFetch } from './options';
import type { ScenarioName } from './scenarios';
import { makeCertificates } from './certs';
import { SimClock } from './clock';
import { bundleChunks } from './content';

export interface SimulatorOptions {
  appliances?: ApplianceOptions[];
  protocol?: 'https' | 'http';
  host?: string;
  /** Port of the first appliance (the others take free ports); 0 = any. */
  port?: number;
  /** Simulated milliseconds per real millisecond. */
  timeScale?: number;
  /** Where `ca.pem` is written. */
  dir?: string;
  /** SANs of the server certificate (tests use another name to provoke a hostname mismatch). */
  certificateHostnames?: string[];
}

export interface JournalEntry {
  seq: number;
  at: string;
  appliance: string;
  method: string;
  path: string;
  query: string;
  status: number | 'reset' | 'refused' | 'truncated';
  userAgent: string | undefined;
}

/** What was asked of the appliances, in order. Never holds credentials, cookies or bodies. */
export class Journal {
  private readonly list: JournalEntry[] = [];
  add(entry: Omit<JournalEntry, 'seq'>): void {
    this.list.push({ seq: this.list.length + 1, ...entry });
  }
  entries(): JournalEntry[] {
    return this.list.map((e) => ({ ...e }));
  }
  for(appliance: string): JournalEntry[] {
    return this.entries().filter((e) => e.appliance === appliance);
  }
  clear(): void {
    this.list.length = 0;
  }
}

export interface SimulatedAppliance {
  readonly name: string;
  readonly endpoint: string;
  /** The cluster it is a node of, and its node key there (`/api/cluster/nodes/<key>`). */
  readonly cluster?: string;
  readonly nodeKey?: string;
  readonly username: string;
  readonly password: string;
  scenario: ScenarioName;
  state(): ReturnType<Appliance['state']>;
  expectedBundle(key: string): { bytes: number; sha256: string; fileName: string };
  expireSessions(): void;
  /** Changes the configuration, as an administrator committing a change would: `config_hash` changes. */
  changeConfiguration(): void;
  /** What `/api/integrated_products` lists from now on (a product deactivated by an upgrade, say). */
  setIntegratedProducts(products: IntegratedProduct[]): void;
  /** Cancels every running download, as an administrator would in the web interface. */
  cancelFetches(): void;
  /**
   * Starts a firmware download as an operator would in the web interface (with `finished`, one
   * that is already over and filled a slot). Returns the fetch job's key.
   */
  startFetch(url: string, options?: OperatorFetch): string;
  injectFault(fault: Fault): void;
  /** Every session id issued so far (for secret scans). */
  issuedSessionIds(): string[];
}

export interface Simulator {
  readonly caFile: string;
  readonly caPem: string;
  readonly dir: string;
  readonly clock: SimClock;
  readonly journal: Journal;
  readonly appliances: SimulatedAppliance[];
  appliance(name: string): SimulatedAppliance;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const htmlPage = (title: string) =>
  `<!DOCTYPE html><html><head><title>${title}</title></head><body><h1>${title}</h1></body></html>`;

/** Serves one appliance; returns the server and the sockets it holds open. */
function serve(
  appliance: Appliance,
  clock: SimClock,
  journal: Journal,
  tls: { cert: string; key: string } | undefined,
) {
  const sockets = new Set<Socket>();
  const record = (req: IncomingMessage, status: JournalEntry['status']) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    journal.add({
      at: new Date(clock.now()).toISOString(),
      appliance: appliance.name,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      status,
      userAgent: req.headers['user-agent'],
    });
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    if (appliance.isDown(clock.now())) {
      record(req, 'reset');
      req.socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://sim');
    const simReq: SimRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: await readBody(req),
    };
    const action = appliance.handle(simReq, clock.now());
    switch (action.kind) {
      case 'reset':
        record(req, 'reset');
        req.socket.destroy();
        return;
      case 'hang':
        record(req, 'reset');
        return; // never answers; the client's timeout or close() ends it
      case 'html': {
        const page = htmlPage(action.title);
        res.writeHead(action.status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(page) });
        res.end(page);
        record(req, action.status);
        return;
      }
      case 'json': {
        const text = JSON.stringify(action.body);
        res.writeHead(action.status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
          ...action.headers,
        });
        res.end(text);
        record(req, action.status);
        return;
      }
      case 'download': {
        res.writeHead(200, {
          'content-type': 'application/zip',
          'content-length': String(action.bytes),
          'content-disposition': `attachment; filename="${action.fileName}"`,
        });
        const chunks = bundleChunks(action.key, action.bytes);
        let sent = 0;
        // next() by hand: leaving a for-of loop (to wait for 'drain') would close the generator.
        const pump = () => {
          for (let next = chunks.next(); !next.done; next = chunks.next()) {
            const chunk = next.value;
            if (action.truncateAt !== undefined && sent + chunk.length > action.truncateAt) {
              res.write(chunk.subarray(0, action.truncateAt - sent), () => req.socket.destroy());
              record(req, 'truncated');
              return;
            }
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
          record(req, 200);
        };
        res.on('close', () => chunks.return(undefined));
        pump();
        return;
      }
    }
  };

  const server: Server = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key }, (req, res) => void handler(req, res))
    : createHttpServer((req, res) => void handler(req, res));
  // While the appliance is down, every new TCP connection is dropped at once.
  server.on('connection', (socket: Socket) => {
    if (appliance.isDown(clock.now())) {
      journal.add({
        at: new Date(clock.now()).toISOString(),
        appliance: appliance.name,
        method: '-',
        path: '-',
        query: '',
        status: 'refused',
        userAgent: undefined,
      });
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return { server, sockets };
}

/**
 * The loopback address each cluster node listens on: 127.0.0.2, 127.0.0.3, … (all of 127.0.0.0/8
 * is loopback on Linux), skipping `host`. A client matches the `address` the Central Management
 * node gives for a node to the host of the endpoint it was given, as with real appliances.
 */
function nodeAddresses(specs: readonly ApplianceOptions[], host: string): Map<string, string> {
  const addresses = new Map<string, string>();
  let next = 2;
  for (const spec of specs) {
    if (spec.cluster === undefined) continue;
    if (`127.0.0.${next}` === host) next++;
    if (next > 254) throw new Error('the simulator has loopback addresses for 253 cluster nodes at most');
    addresses.set(spec.name, `127.0.0.${next++}`);
  }
  return addresses;
}

/** Starts one HTTP(S) server per simulated appliance, sharing one CA, clock and journal. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const protocol = options.protocol ?? 'https';
  const host = options.host ?? '127.0.0.1';
  const clock = new SimClock(options.timeScale ?? 1);
  const journal = new Journal();
  const specs = options.appliances?.length ? options.appliances : [{ name: 'sps-sim-1' }];
  // A cluster's nodes have the cluster interface enabled unless told otherwise.
  const built = specs.map((spec) => ({
    spec,
    appliance: new Appliance(
      spec.cluster === undefined ? spec : { ...spec, clusterInterface: spec.clusterInterface ?? true },
      clock.now(),
    ),
  }));
  const addresses = nodeAddresses(specs, host);
  // Forming a cluster checks its roles and tells each node its cluster.
  for (const name of new Set(specs.flatMap((s) => s.cluster ?? []))) {
    const members = built.filter((b) => b.spec.cluster === name);
    new Cluster(
      name,
      members.map(({ appliance }) => ({ appliance, address: addresses.get(appliance.name)! })),
      clock.now(),
    );
  }
  // A folder of its own (for ca.pem) goes away with the simulator; one that was given stays.
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sps-sim-'));
  mkdirSync(dir, { recursive: true });
  const certs = await makeCertificates(
    options.certificateHostnames ?? ['127.0.0.1', '::1', 'localhost', ...addresses.values()],
  );
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, certs.caPem);

  const running: Array<{ server: Server; sockets: Set<Socket> }> = [];
  const appliances: SimulatedAppliance[] = [];
  for (const [i, { appliance }] of built.entries()) {
    const served = serve(
      appliance,
      clock,
      journal,
      protocol === 'https' ? { cert: certs.certPem, key: certs.keyPem } : undefined,
    );
    const listenOn = addresses.get(appliance.name) ?? host;
    await new Promise<void>((resolve, reject) => {
      served.server.once('error', reject);
      served.server.listen(i === 0 ? (options.port ?? 0) : 0, listenOn, () => resolve());
    }).catch((err: unknown) => {
      throw new Error(`${appliance.name} cannot listen on ${listenOn}: ${String(err)}`);
    });
    running.push(served);
    const port = (served.server.address() as AddressInfo).port;
    const hostPart = listenOn.includes(':') ? `[${listenOn}]` : listenOn;
    const node = appliance.cluster?.nodeOf(appliance);
    appliances.push({
      name: appliance.name,
      endpoint: `${protocol}://${hostPart}:${port}`,
      ...(node ? { cluster: appliance.cluster!.name, nodeKey: node.key } : {}),
      username: appliance.username,
      password: appliance.password,
      get scenario() {
        return appliance.scenario;
      },
      set scenario(s: ScenarioName) {
        appliance.scenario = s;
      },
      state: () => appliance.state(clock.now()),
      expectedBundle: (key) => appliance.expectedBundle(key),
      expireSessions: () => appliance.expireSessions(),
      changeConfiguration: () => appliance.changeConfiguration(),
      setIntegratedProducts: (products) => appliance.settings.integratedProducts.splice(0, Infinity, ...products),
      cancelFetches: () => appliance.cancelFetches(clock.now()),
      startFetch: (url, fetchOptions) => appliance.startFetch(clock.now(), url, fetchOptions),
      injectFault: (fault) => appliance.injectFault(fault),
      issuedSessionIds: () => [...appliance.issuedSessionIds],
    });
  }

  let closed: Promise<void> | undefined;
  return {
    caFile,
    caPem: certs.caPem,
    dir,
    clock,
    journal,
    appliances,
    appliance(name) {
      const found = appliances.find((a) => a.name === name);
      if (!found) throw new Error(`no simulated appliance named ${name}`);
      return found;
    },
    close() {
      closed ??= Promise.all(
        running.map(
          ({ server, sockets }) =>
            new Promise<void>((resolve) => {
              for (const s of sockets) s.destroy();
              server.close(() => resolve());
            }),
        ),
      ).then(() => {
        if (ownDir) rmSync(dir, { recursive: true, force: true });
      });
      return closed;
    },
  };
}
