// The github context's server_url, api_url and graphql_url (and so GITHUB_SERVER_URL,
// GITHUB_API_URL, GITHUB_GRAPHQL_URL) for a server URL, the way GitHub sets them: github.com's
// API lives on api.github.com, GHE.com's on api.<subdomain>.ghe.com, and any other host is a
// GitHub Enterprise Server style host with the API under /api/v3 and /api/graphql
// (actions/runner JobExtension.cs; only scheme, host and port of the server URL count).

export interface GitHubUrls {
  server_url: string;
  api_url: string;
  graphql_url: string;
}

export function githubUrls(serverUrl: string): GitHubUrls {
  const url = new URL(serverUrl);
  const host = url.hostname.toLowerCase();
  const origin = `${url.protocol}//${url.host}`.toLowerCase();
  if (host === "github.com" || host === "www.github.com") {
    return {
      server_url: "https://github.com",
      api_url: "https://api.github.com",
      graphql_url: "https://api.github.com/graphql",
    };
  }
  if (host.endsWith(".ghe.com")) {
    const api = `${url.protocol}//api.${url.host}`.toLowerCase();
    return { server_url: origin, api_url: api, graphql_url: `${api}/graphql` };
  }
  return { server_url: origin, api_url: `${origin}/api/v3`, graphql_url: `${origin}/api/graphql` };
}
