import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';

/**
 * autocannon on a thread of its own, so that the load it makes does not share the event loop
 * of the app it measures. Each run posts JSON bodies made from `head + address + tail`, one
 * new address a request (`<tag>-<n>@bench.example.com`, n counting from 0 within the run), and
 * answers which of them got a 2xx, so the caller can check what the server stored.
 */
export interface LoadRun {
  type: 'run';
  url: string;
  connections: number;
  seconds: number;
  /** Starts every address of this run; keep it the same length across runs of one figure. */
  tag: string;
  body: { head: string; tail: string };
  headers: Record<string, string>;
}
export type LoadRequest = LoadRun | { type: 'close' };

export interface LoadResult {
  connections: number;
  seconds: number;
  /** Completed requests (any status) a second over the run. */
  rps: number;
  /** Latency of the 2xx answers, ms. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  completed: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Requests written to a socket, answered or not (cut off in flight when the run ended). */
  sent: number;
  /** How many addresses were made (n of the last one + 1). */
  made: number;
  /** n of each address that got a 2xx. */
  answered: number[];
}
export type LoadReply =
  | { type: 'ready' }
  | { type: 'result'; result: LoadResult }
  | { type: 'failed'; message: string }
  | { type: 'closed' };

/** What this file uses of autocannon 9 (it ships no types). */
type Context = Record<string, unknown>;
interface CannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  setupRequest?: (request: CannonRequest, context: Context) => CannonRequest;
  onResponse?: (status: number, body: string, context: Context) => void;
}
interface Histogram {
  average: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  total: number;
  sent?: number;
}
interface CannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
  latency: Histogram;
  requests: Histogram;
}
interface CannonOptions {
  url: string;
  connections: number;
  duration: number;
  method: string;
  headers: Record<string, string>;
  requests: CannonRequest[];
}
interface Autocannon {
  (opts: CannonOptions, cb: (err: Error | null, raw: unknown) => void): unknown;
  aggregateResult(results: unknown[], opts: { url: string; connections: number }): CannonResult;
}

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const port = parentPort;
if (!port) throw new Error('load.worker must run in a worker thread');

async function run(r: LoadRun): Promise<LoadResult> {
  let made = 0;
  const answered: number[] = [];
  const raw = await new Promise<unknown>((resolve, reject) => {
    autocannon(
      {
        url: r.url,
        connections: r.connections,
        duration: r.seconds,
        method: 'POST',
        headers: r.headers,
        requests: [
          {
            // One request in flight per connection (no pipelining), so the context holds the
            // address of the request this connection is waiting on.
            setupRequest(request, context) {
              const n = made++;
              context.n = n;
              request.body = `${r.body.head}${r.tag}-${n}@bench.example.com${r.body.tail}`;
              return request;
            },
            onResponse(status, _body, context) {
              if (status >= 200 && status < 300) answered.push(context.n as number);
            },
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
  // Off the main thread autocannon answers its raw, encoded figures: aggregate them here.
  const res = autocannon.aggregateResult([raw], { url: r.url, connections: r.connections });
  return {
    connections: r.connections,
    seconds: res.duration,
    rps: res.requests.total / res.duration,
    p50: res.latency.p50,
    p90: res.latency.p90,
    p99: res.latency.p99,
    max: res.latency.max,
    completed: res.requests.total,
    ok: res['2xx'],
    non2xx: res.non2xx,
    errors: res.errors,
    timeouts: res.timeouts,
    statusCodes: Object.fromEntries(
      Object.entries(res.statusCodeStats).map(([code, { count }]) => [code, count]),
    ),
    sent: res.requests.sent ?? made,
    made,
    answered,
  };
}

port.on('message', (m: LoadRequest) => {
  if (m.type === 'close') {
    port.postMessage({ type: 'closed' } satisfies LoadReply);
    return;
  }
  run(m).then(
    (result) => port.postMessage({ type: 'result', result } satisfies LoadReply),
    (err: unknown) =>
      port.postMessage({
        type: 'failed',
        message: (err as Error).message ?? String(err),
      } satisfies LoadReply),
  );
});
port.postMessage({ type: 'ready' } satisfies LoadReply);
