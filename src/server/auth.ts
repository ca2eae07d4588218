// The bearer token of an Authorization header (the API's tokens and the node agents' credentials).

export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== "string") return undefined;
  const m = /^Bearer +(\S+) *$/i.exec(header);
  return m?.[1];
}
