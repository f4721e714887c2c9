import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import {
  DependencyDownError,
  OutageTracker,
  dependencyOf,
  describeConnectionError,
  isConnectionError,
  registerEndpoint,
  withDeadline,
  type OutageLog,
} from './outage.js';

/** A socket error as Node makes it. */
const socketError = (code: string, address: string, port: number) =>
  Object.assign(new Error(`connect ${code} ${address}:${port}`), {
    code,
    errno: -111,
    syscall: 'connect',
    address,
    port,
  });
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

function tracker() {
  const lines: { level: string; message: string }[] = [];
  let now = 1_000_000;
  const log: OutageLog = (level, message) => lines.push({ level, message });
  const t = new OutageTracker(log, () => now);
  return { t, lines, advance: (ms: number) => (now += ms) };
}

describe('OutageTracker', () => {
  it('logs the first error of an outage once, counts the rest, and logs the recovery once', () => {
    const { t, lines, advance } = tracker();
    t.report('redis', socketError('ECONNREFUSED', '127.0.0.1', 6379));
    for (let i = 0; i < 244; i++) {
      advance(50);
      t.report(
        'redis',
        new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      );
    }
    expect(lines).toEqual([
      {
        level: 'error',
        message:
          'redis unreachable: ECONNREFUSED 127.0.0.1:6379; further errors are counted, not logged',
      },
    ]);
    expect(t.current('redis')).toMatchObject({ since: 1_000_000, errors: 245 });
    advance(100);
    t.recover('redis');
    t.recover('redis'); // a second 'ready' after recovery logs nothing
    expect(lines).toHaveLength(2);
    expect(lines[1]).toEqual({
      level: 'log',
      message: 'redis reachable again after 12.3 s; 245 errors during the outage',
    });
    expect(t.current('redis')).toBeUndefined();
  });

  it('keeps the outages of each dependency apart', () => {
    const { t, lines } = tracker();
    t.report('postgres', pgError('57P01', 'terminating connection due to administrator command'));
    t.report('redis', socketError('ECONNREFUSED', '127.0.0.1', 6379));
    t.report('postgres', new Error('Connection terminated unexpectedly'));
    t.recover('redis');
    expect(lines.map((l) => l.message)).toEqual([
      'postgres unreachable: 57P01 terminating connection due to administrator command; further errors are counted, not logged',
      'redis unreachable: ECONNREFUSED 127.0.0.1:6379; further errors are counted, not logged',
      'redis reachable again after 0.0 s; 1 error during the outage',
    ]);
    expect(t.current('postgres')?.errors).toBe(2);
    expect(t.current('postgres')?.lastError).toBe('Connection terminated unexpectedly');
  });

  it('counts one error reported from two places once', () => {
    const { t } = tracker();
    const err = new Error('Connection terminated unexpectedly');
    t.report('postgres', err);
    t.report('postgres', err);
    t.report('postgres', new Error('Connection terminated unexpectedly'));
    expect(t.current('postgres')?.errors).toBe(2);
  });

  it('starts a new outage after a recovery', () => {
    const { t, lines } = tracker();
    t.report('redis', socketError('ECONNRESET', '10.0.0.5', 6379));
    t.recover('redis');
    t.report('redis', socketError('ECONNREFUSED', '10.0.0.5', 6379));
    expect(lines.map((l) => l.level)).toEqual(['error', 'log', 'error']);
  });

  it('logs no personal data from an error message', () => {
    const { t, lines } = tracker();
    t.report('postgres', new Error('Connection terminated while saving ann@example.com'));
    expect(lines[0]!.message).not.toContain('ann@example.com');
  });
});

describe('isConnectionError and dependencyOf', () => {
  registerEndpoint('postgres', 'postgres://postgres@127.0.0.1:5432/x');
  registerEndpoint('redis', 'redis://localhost:6390');

  it.each([
    [
      'pg: terminated by pg_terminate_backend',
      pgError('57P01', 'terminating connection due to administrator command'),
      'postgres',
    ],
    [
      'pg: server crash',
      pgError('57P02', 'terminating connection because of crash of another server process'),
      'postgres',
    ],
    ['pg: starting up', pgError('57P03', 'the database system is starting up'), 'postgres'],
    ['pg: connection failure', pgError('08006', 'connection failure'), 'postgres'],
    ['pg: connection dropped', new Error('Connection terminated unexpectedly'), 'postgres'],
    ['pg-pool: connect timeout', new Error('timeout exceeded when trying to connect'), 'postgres'],
    [
      'pg: broken client',
      new Error('Client has encountered a connection error and is not queryable'),
      'postgres',
    ],
    ['ioredis: closed', new Error('Connection is closed.'), 'redis'],
    [
      'ioredis: offline queue off',
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      'redis',
    ],
    [
      'ioredis: retries spent',
      Object.assign(new Error('Reached the max retries per request limit (which is 1).'), {
        name: 'MaxRetriesPerRequestError',
      }),
      'redis',
    ],
    ['socket to the pg port', socketError('ECONNREFUSED', '127.0.0.1', 5432), 'postgres'],
    [
      'socket to the redis port, by another name',
      socketError('ECONNREFUSED', '::1', 6390),
      'redis',
    ],
    ['socket to somewhere unknown', socketError('ETIMEDOUT', '10.9.9.9', 1234), undefined],
    [
      'wrapped in a cause',
      new Error('enqueue failed', { cause: new Error('Connection is closed.') }),
      'redis',
    ],
    [
      'an AggregateError of attempts',
      Object.assign(new AggregateError([socketError('ECONNREFUSED', '127.0.0.1', 5432)], ''), {
        code: 'ECONNREFUSED',
      }),
      'postgres',
    ],
    ['our own', new DependencyDownError('redis', 'not reachable (reconnecting)'), 'redis'],
  ])('%s is a connection error', (_what, err, dependency) => {
    expect(isConnectionError(err)).toBe(true);
    expect(dependencyOf(err)).toBe(dependency);
  });

  it.each([
    ['a unique violation', pgError('23505', 'duplicate key value violates unique constraint')],
    ['a syntax error', pgError('42601', 'syntax error at or near "SELEC"')],
    [
      'a Redis command error',
      new Error('WRONGTYPE Operation against a key holding the wrong kind of value'),
    ],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['not an error', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('%s is not a connection error', (_what, err) => {
    expect(isConnectionError(err)).toBe(false);
    expect(dependencyOf(err)).toBeUndefined();
  });

  it('describes errors briefly, with where they were going', () => {
    expect(describeConnectionError(socketError('ECONNREFUSED', '127.0.0.1', 6379))).toBe(
      'ECONNREFUSED 127.0.0.1:6379',
    );
    expect(describeConnectionError(new Error('line one\n    at somewhere'))).toBe('line one');
  });
});

describe('withDeadline', () => {
  it('takes an answer that arrived while the event loop was busy past the deadline', async () => {
    // An echo server in another process answers at once; this process is busy (a long
    // synchronous task) past the deadline, so the answer waits in the socket when the late
    // timer runs.
    const child = spawn(process.execPath, [
      '-e',
      "const s=require('net').createServer(c=>c.on('data',d=>c.write(d))).listen(0,'127.0.0.1',()=>console.log(s.address().port))",
    ]);
    const port = await new Promise<number>((r) =>
      child.stdout.once('data', (d) => r(Number(String(d)))),
    );
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', r));
    try {
      const answer = new Promise<string>((r) => socket.once('data', (d) => r(String(d))));
      socket.write('pong');
      const raced = withDeadline(answer, 20, () => new Error('late'));
      const until = Date.now() + 300;
      while (Date.now() < until) {
        // busy: neither the timer nor the socket can run
      }
      await expect(raced).resolves.toBe('pong');
    } finally {
      socket.destroy();
      child.kill();
    }
  });

  it('passes the result through when the work is in time', async () => {
    await expect(withDeadline(Promise.resolve(7), 100, () => new Error('late'))).resolves.toBe(7);
  });

  it('rejects with the given error when the work is late', async () => {
    const started = Date.now();
    const never = new Promise<number>(() => undefined);
    await expect(withDeadline(never, 50, () => new Error('late'))).rejects.toThrow('late');
    expect(Date.now() - started).toBeLessThan(500);
  });
});
