/** Text for HTML (an element's text or a quoted attribute): the five special characters as entities. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
