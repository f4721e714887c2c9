import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import YAML, { isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { TemplateError } from './template-error.js';

type Path = readonly (string | number)[];

/**
 * A parsed template YAML file that still knows where each field is, so an error can name
 * the line: a schema error the field's line, a Handlebars error the line inside the field.
 */
export class YamlSource {
  private constructor(
    /** Relative to TEMPLATES_DIR. */
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Reads and parses `path`; a syntax error throws a TemplateError with its line. */
  static read(path: string, templatesDir: string): YamlSource {
    const file = relative(templatesDir, path);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new TemplateError({ file, reason: 'missing' });
    }
    return YamlSource.parse(text, file);
  }

  static parse(text: string, file: string): YamlSource {
    const lines = new LineCounter();
    const doc = YAML.parseDocument(text, { lineCounter: lines });
    const source = new YamlSource(file, doc, lines);
    const err = doc.errors[0];
    if (err) {
      const field = source.fieldAt(err.pos[0]);
      throw new TemplateError({
        file,
        line: err.linePos?.[0].line,
        field: field.length ? field.join('.') : undefined,
        // "Missing closing "quote at line 4, column 1:" and a code frame: the line is said apart.
        reason: `invalid YAML: ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
      });
    }
    return source;
  }

  get value(): unknown {
    return this.doc.toJS();
  }

  has(path: Path): boolean {
    return this.walk(path).found;
  }

  /** Line of the field's key, or of the nearest enclosing field that exists. */
  lineOf(path: Path): number {
    return this.walk(path).line;
  }

  /**
   * Line where a scalar's text begins: the line after `|` or `>` for a block scalar.
   * Line n of the text is then line `contentLine + n - 1` of the file (exact for `|`).
   */
  contentLine(path: Path): number {
    const { node, line } = this.walk(path);
    if (!node?.range) return line;
    const start = this.lines.linePos(node.range[0]).line;
    const block = isScalar(node) && (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED');
    return block ? start + 1 : start;
  }

  /** Validates the whole file; the first problem throws, naming its field and line. */
  parseWith<T extends z.ZodType>(schema: T): z.output<T> {
    const result = schema.safeParse(this.value);
    if (result.success) return result.data;
    const issue = result.error.issues[0]!;
    let path: Path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys' && issue.keys[0]) path = [...path, issue.keys[0]];
    const missing = !this.has(path);
    throw new TemplateError({
      file: this.file,
      field: path.length ? path.join('.') : undefined,
      line: this.lineOf(path),
      reason:
        issue.code === 'unrecognized_keys'
          ? 'is not a known field'
          : missing
            ? 'is missing'
            : issue.message,
    });
  }

  private walk(path: Path): { found: boolean; line: number; node?: Node } {
    let node: unknown = this.doc.contents;
    let line = 1;
    for (const key of path) {
      let next: unknown;
      let at: number | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
        next = pair?.value;
        at = pair && isScalar(pair.key) ? pair.key.range?.[0] : undefined;
      } else if (isSeq(node) && typeof key === 'number') {
        next = node.items[key];
        at = (next as Node | undefined)?.range?.[0];
      }
      if (at === undefined) return { found: false, line };
      line = this.lines.linePos(at).line;
      node = next;
    }
    return { found: true, line, node: node as Node | undefined };
  }

  /** The path of keys whose entry spans `offset` (best effort in a broken file). */
  private fieldAt(offset: number): string[] {
    const path: string[] = [];
    let node: unknown = this.doc.contents;
    while (isMap(node)) {
      const pair = node.items.find((p) => {
        if (!isPair(p) || !isScalar(p.key) || !p.key.range) return false;
        const end = (p.value as Node | null)?.range?.[2] ?? p.key.range[2];
        return p.key.range[0] <= offset && offset <= end;
      });
      if (!pair || !isScalar(pair.key)) break;
      path.push(String(pair.key.value));
      node = pair.value;
    }
    return path;
  }
}
