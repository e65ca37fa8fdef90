// Escaping for the report formats: every text that came from a run folder is data, never markup.

// XML 1.0 forbids most C0 controls even as character references; HTML renders them as garbage.
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]/g;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value for HTML and XML alike (quotes escaped, so safe in either quoting). */
export function escapeText(value: unknown): string {
  const s = value === undefined || value === null ? '' : String(value);
  return s.replace(FORBIDDEN, '\ufffd').replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** A value for an `id` attribute or CSS-safe token: letters, digits, `-`, `_`, `.` only. */
export function token(value: string): string {
  return value.replace(/[^A-Za-z0-9_.-]/g, '_');
}
