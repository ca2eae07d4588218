// What the proxy records about each connection a job attempts, and the log line a job's log
// shows for it: `egress: allowed CONNECT example.org:443 → 93.184.216.34`,
// `egress: refused GET 169.254.169.254:80 (is a link-local address (cloud metadata) 169.254.169.254)`.
export interface EgressRecord {
  decision: "allowed" | "refused";
  /** CONNECT, or the method of a plain-HTTP request. */
  method: string;
  /** host:port as the job asked for it (sanitised). */
  target: string;
  /** The address connected to (allowed only). */
  address?: string;
  reason?: string;
}

/** Hostile text kept to a bounded, printable form before it reaches a log. */
export function printable(text: string, max = 200): string {
  const clean = text.replace(/[^\x21-\x7e]/g, "?");
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

export function recordLine(r: EgressRecord): string {
  const head = `egress: ${r.decision} ${printable(r.method, 16)} ${printable(r.target)}`;
  const to = r.address !== undefined ? ` → ${r.address}` : "";
  return `${head}${to}${r.reason !== undefined ? ` (${r.reason})` : ""}`;
}
