import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { EnrollmentStatus } from '../database/index.js';
import { TRANSITIONS, allowed, type Transition } from './lifecycle.js';

const STATES: (EnrollmentStatus | 'new')[] = [
  'new',
  'pending',
  'active',
  'paused',
  'completed',
  'cancelled',
];

/**
 * The enrolment state machine as the README draws it, written out edge by edge and apart from
 * the table in lifecycle.ts: a change to the table that is not a change to this list fails.
 */
const EDGES: Record<Transition, string[]> = {
  signUp: ['new>pending'],
  enrol: ['new>active', 'new>paused'],
  refreshPending: ['pending>pending'],
  confirm: ['pending>active', 'pending>paused'],
  pause: ['active>paused', 'paused>paused'],
  resume: ['paused>active', 'paused>completed'],
  cancel: ['pending>cancelled', 'active>cancelled', 'paused>cancelled'],
  restart: ['cancelled>active', 'cancelled>paused'],
  retime: ['pending>pending', 'active>active', 'paused>paused'],
  switchChannel: ['pending>pending', 'active>active', 'paused>paused'],
  advance: ['active>active', 'active>completed', 'active>cancelled'],
  endUndeliverable: ['pending>cancelled', 'active>cancelled', 'paused>cancelled'],
};

describe('the enrolment state machine', () => {
  it('names every transition', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual(Object.keys(EDGES).sort());
  });

  for (const transition of Object.keys(EDGES) as Transition[]) {
    it(`${transition}: allows exactly ${EDGES[transition].join(', ')}`, () => {
      const found: string[] = [];
      for (const from of STATES)
        for (const to of STATES)
          if (to !== 'new' && allowed(transition, from, to)) found.push(`${from}>${to}`);
      expect(found.sort()).toEqual([...EDGES[transition]].sort());
    });
  }

  it('never leaves completed, and leaves cancelled only by restart', () => {
    for (const transition of Object.keys(EDGES) as Transition[]) {
      for (const to of STATES.filter((s) => s !== 'new') as EnrollmentStatus[]) {
        expect(allowed(transition, 'completed', to)).toBe(false);
        if (transition !== 'restart') expect(allowed(transition, 'cancelled', to)).toBe(false);
      }
    }
  });
});

/** Every file under `dir` ending in .ts, but specs. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('one owner of enrolment state', () => {
  const src = join(process.cwd(), 'src');
  const OWNERS = ['enrollments/lifecycle.ts', 'enrollments/enrollments.repository.ts'];
  // SQL that writes enrolments, and calls of the repository's writers.
  const WRITES = [
    /(updateTable|insertInto)\(\s*['"]enrollments['"]/,
    /\benrollments\.(update|insert|insertUnlessEnrolled|advanceMany|cancelAllOn)\(/,
  ];

  it('writes enrolments only in the lifecycle (and the repository it calls)', () => {
    const offenders = sources(src)
      .map((path) => relative(src, path))
      .filter((path) => !OWNERS.includes(path) && !path.startsWith('database/migrations/'))
      .filter((path) => WRITES.some((w) => w.test(readFileSync(join(src, path), 'utf8'))));
    expect(offenders).toEqual([]);
  });

  it('would notice a writer elsewhere', () => {
    expect(WRITES.some((w) => w.test(`await this.enrollments.update(trx, e.id, {})`))).toBe(true);
    expect(WRITES.some((w) => w.test(`trx.updateTable('enrollments').set({})`))).toBe(true);
  });
});
