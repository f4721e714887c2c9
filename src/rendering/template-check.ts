import Handlebars from 'handlebars';
import { oneLine, TemplateError } from '../campaigns/index.js';

type Hbs = typeof Handlebars;
type Ast = hbs.AST.Node & { loc?: hbs.AST.SourceLocation };

/** Where a template's text comes from, so that an error can name the file, field and line. */
export interface TemplateSite {
  /** Relative to TEMPLATES_DIR. */
  file: string;
  /** The YAML field holding the template, if any. */
  field?: string;
  /** Line of the file where the template's text begins (default 1: the file is the template). */
  line?: number;
  /** The file's own text, when the template was generated from it (MJML compiled to HTML). */
  original?: string;
}

/**
 * Finds at load time what Handlebars finds only when a message is rendered, or reports
 * badly: a syntax error, a helper or a partial that does not exist. Throws a TemplateError.
 */
export function checkTemplate(hbs: Hbs, source: string, site: TemplateSite): void {
  let ast: hbs.AST.Program;
  try {
    ast = hbs.parse(source);
  } catch (err) {
    throw templateError(err, source, site);
  }
  visit(ast, (node) => {
    if (node.type === 'PartialStatement' || node.type === 'PartialBlockStatement') {
      const { name } = node as hbs.AST.PartialStatement;
      const partial =
        name.type === 'PathExpression' ? (name as hbs.AST.PathExpression).original : '';
      if (partial && !(partial in hbs.partials))
        throw problem(site, lineIn(site, node.loc), `unknown partial "${partial}"`);
    }
    if (
      node.type === 'MustacheStatement' ||
      node.type === 'BlockStatement' ||
      node.type === 'SubExpression'
    ) {
      const call = node as hbs.AST.MustacheStatement;
      const path = call.path as hbs.AST.PathExpression;
      // Arguments make it a helper call; without them `{{name}}` is a variable.
      const isCall =
        node.type === 'SubExpression' ||
        call.params.length > 0 ||
        (call.hash?.pairs.length ?? 0) > 0;
      if (path.type === 'PathExpression' && isCall && !(path.original in hbs.helpers))
        throw problem(site, lineIn(site, path.loc), `unknown helper "${path.original}"`);
    }
  });
}

/**
 * An error from compiling or rendering `source` (with sample data) as a one-line
 * TemplateError: its line within the file, and a reason without Handlebars' code frame.
 */
export function templateError(err: unknown, source: string, site: TemplateSite): TemplateError {
  if (err instanceof TemplateError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const first = message.split('\n')[0]!;

  // "Parse error on line 3:" + a code frame + "Expecting ..., got 'EOF'"
  const parse = /^(?:Parse|Lexical) error on line (\d+)/.exec(first);
  if (parse) {
    const near = message.split('\n')[1]?.trim();
    const got = /got '([A-Z_]+)'/.exec(message)?.[1];
    const hint = got === 'EOF' ? ' (a {{#block}} without its {{/block}}?)' : '';
    return problem(
      site,
      toFileLine(site, Number(parse[1])),
      `Handlebars syntax error${near ? ` near "${near}"` : ''}${hint}`,
    );
  }

  // Strict mode: '"nmae" not defined in [object Object] - 4:12' (line:column of the path)
  const located = err as { lineNumber?: number; column?: number };
  const missing = /^"([^"]+)" not defined in /.exec(first);
  if (missing) {
    const path =
      located.lineNumber !== undefined
        ? pathAt(source, located.lineNumber, located.column ?? 0)
        : undefined;
    const name = path ?? missing[1]!;
    const line = site.original
      ? findName(site.original, name)
      : located.lineNumber !== undefined
        ? toFileLine(site, located.lineNumber)
        : findName(source, name, site);
    return problem(site, line, `unknown variable "${name}"`);
  }

  const partial = /^The partial (\S+) could not be found/.exec(first);
  if (partial) return problem(site, undefined, `unknown partial "${partial[1]}"`);

  const reason = first.replace(/ - \d+:\d+$/, '');
  const line =
    located.lineNumber !== undefined && !site.original
      ? toFileLine(site, located.lineNumber)
      : undefined;
  return problem(site, line, reason);
}

function problem(site: TemplateSite, line: number | undefined, reason: string): TemplateError {
  return new TemplateError({ file: site.file, field: site.field, line, reason: oneLine(reason) });
}

function toFileLine(site: TemplateSite, templateLine: number): number {
  return (site.line ?? 1) + templateLine - 1;
}

function lineIn(site: TemplateSite, loc: hbs.AST.SourceLocation | undefined): number | undefined {
  return loc ? toFileLine(site, loc.start.line) : undefined;
}

/** The full path (`sender.nmae`) of the variable at a line and column of the template. */
function pathAt(source: string, line: number, column: number): string | undefined {
  let found: string | undefined;
  visit(parseQuietly(source), (node) => {
    if (
      !found &&
      node.type === 'PathExpression' &&
      node.loc?.start.line === line &&
      node.loc.start.column === column
    )
      found = (node as hbs.AST.PathExpression).original;
  });
  return found;
}

/** Line of the first use of a variable in `text` (a file of its own, or a field's text). */
function findName(text: string, name: string, site?: TemplateSite): number | undefined {
  let line: number | undefined;
  visit(parseQuietly(text), (node) => {
    if (line === undefined && node.type === 'PathExpression') {
      const original = (node as hbs.AST.PathExpression).original;
      if (original === name || original.endsWith(`.${name}`)) line = node.loc?.start.line;
    }
  });
  return line === undefined ? undefined : site ? toFileLine(site, line) : line;
}

function parseQuietly(source: string): hbs.AST.Program {
  try {
    return Handlebars.parse(source);
  } catch {
    return Handlebars.parse('');
  }
}

function visit(node: unknown, fn: (node: Ast) => void): void {
  if (Array.isArray(node)) {
    for (const n of node) visit(n, fn);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const n = node as Ast & Record<string, unknown>;
  if (typeof n.type !== 'string') return;
  fn(n);
  for (const [key, value] of Object.entries(n)) {
    if (key !== 'loc' && value && typeof value === 'object') visit(value, fn);
  }
}
