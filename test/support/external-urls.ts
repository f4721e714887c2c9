/**
 * Finds what in a page or message would make a reader's device talk to someone other than us:
 * any http(s) or protocol-relative URL whose origin is not allowed, any `@import`, and any
 * `url(...)`, `<link href>`, `<script src>`, `<img src>` (and the like) that leaves the site.
 * Each problem comes back as one short line saying what and where.
 */
export interface ScanOptions {
  /** Origins (scheme://host[:port]) anything may point at: PUBLIC_URL's. */
  origins: string[];
  /** Origins only a clickable link may point at (a clinic's booking page), never a resource. */
  linkOrigins?: string[];
}

/** Namespace names are identifiers, never fetched: `xmlns="http://www.w3.org/1999/xhtml"`. */
const NAMESPACE = /\bxmlns(?::[\w-]+)?\s*=\s*("[^"]*"|'[^']*')/gi;
const ANY_URL = /(?:https?:)?\/\/[^\s"'<>()\\]+/gi;
const RESOURCE_ATTR =
  /<(\w+)\b[^>]*?\s(src|srcset|href|background|poster|data|action|formaction)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/gi;
const CSS_URL = /url\(\s*(['"]?)([^'")]*)\1\s*\)/gi;

function originOf(raw: string): string | null {
  try {
    return new URL(raw.startsWith('//') ? `https:${raw}` : raw).origin;
  } catch {
    return null;
  }
}

const isRemote = (value: string) => /^(?:https?:)?\/\//i.test(value.trim());

export function externalReferences(text: string, opts: ScanOptions): string[] {
  const problems: string[] = [];
  const own = new Set(opts.origins.map((o) => new URL(o).origin));
  const links = new Set((opts.linkOrigins ?? []).map((o) => new URL(o).origin));
  const body = text.replace(NAMESPACE, 'xmlns=""');

  if (/@import\b/i.test(body)) problems.push('@import');
  for (const m of body.matchAll(CSS_URL)) {
    const target = m[2]!.trim();
    if (isRemote(target) && !own.has(originOf(target) ?? '')) problems.push(`url(${target})`);
  }
  for (const m of body.matchAll(RESOURCE_ATTR)) {
    const tag = m[1]!.toLowerCase();
    const attr = m[2]!.toLowerCase();
    const value = (m[4] ?? m[5] ?? m[6] ?? '').trim();
    const clickable = (tag === 'a' || tag === 'area') && attr === 'href';
    // srcset holds several URLs; each must stay at home.
    const values =
      attr === 'srcset' ? value.split(',').map((v) => v.trim().split(/\s+/)[0]!) : [value];
    for (const v of values) {
      if (!isRemote(v)) continue;
      const origin = originOf(v) ?? v;
      if (own.has(origin) || (clickable && links.has(origin))) continue;
      problems.push(`<${tag} ${attr}="${v}">`);
    }
  }
  // Every other URL in the text (plain-text mail, SMS, inline script, CSS). A plain-text URL
  // is only ever followed by a person, so it may go to a link origin.
  for (const m of body.matchAll(ANY_URL)) {
    const url = m[0].replace(/[.,;:!?]+$/, '');
    // `//` inside a path or a comment marker is not a URL of its own.
    if (url.startsWith('//') && !/^\/\/[a-z0-9-]+(\.[a-z0-9-]+)+/i.test(url)) continue;
    if (url.startsWith('//') && m.index! > 0 && /[\w:/]/.test(body[m.index! - 1]!)) continue;
    const origin = originOf(url);
    if (origin && own.has(origin)) continue;
    if (origin && links.has(origin)) continue;
    problems.push(url);
  }
  return [...new Set(problems)];
}
