/** Where a template problem is, and what it is. */
export interface TemplateProblem {
  /** Path relative to TEMPLATES_DIR, e.g. `campaigns/upper-back-relief/heat.yaml`. */
  file: string;
  /** The YAML field, e.g. `email.html`; absent for whole files (layouts, pages). */
  field?: string;
  /** 1-based line within the file. */
  line?: number;
  reason: string;
}

/**
 * A template that cannot be used. Its message is one line, `file:line: field "x": reason`,
 * which start-up and the CLI print as they are: never a stack trace.
 */
export class TemplateError extends Error {
  readonly problem: TemplateProblem;

  constructor(problem: TemplateProblem | string) {
    const p = typeof problem === 'string' ? { file: '', reason: problem } : problem;
    super(formatProblem(p));
    this.name = 'TemplateError';
    this.problem = p;
  }
}

export function formatProblem(p: TemplateProblem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}` : ''}: ` : '';
  const field = p.field ? `field "${p.field}": ` : '';
  return `${where}${field}${oneLine(p.reason)}`;
}

/** Whitespace (newlines included) collapsed, so a reason never breaks the line. */
export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
