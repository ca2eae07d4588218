// Test helpers for job-source credentials: an HTTP front for a `git http-backend` server that
// requires basic auth and can hold an authenticated request until the test has looked at every
// process (so what runs during a fetch is seen without any timing), and that look: every
// process's command line (as `ps` shows it) and, where readable, its environment.
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer, request, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";

export interface AuthProxy {
  url: string;
  port: number;
  /** Called with each authenticated request before it is passed on; the request waits for it. */
  onAuthenticated: ((req: IncomingMessage) => Promise<void>) | undefined;
  /** Requests refused for a missing or wrong password. */
  refused: number;
  close(): Promise<void>;
}

export async function startAuthProxy(backend: string, user: string, password: string): Promise<AuthProxy> {
  const expected = "Basic " + Buffer.from(`${user}:${password}`).toString("base64");
  const target = new URL(backend);
  const proxy: AuthProxy = {
    url: "",
    port: 0,
    onAuthenticated: undefined,
    refused: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      proxy.refused++;
      req.resume();
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' }).end();
      return;
    }
    void (proxy.onAuthenticated?.(req) ?? Promise.resolve()).then(() => {
      const headers = { ...req.headers, host: target.host };
      delete headers.authorization;
      const out = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
        (back) => {
          res.writeHead(back.statusCode ?? 502, back.headers);
          back.pipe(res);
        },
      );
      out.on("error", () => res.destroy());
      req.pipe(out);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.url = `http://127.0.0.1:${proxy.port}`;
  return proxy;
}

export interface ProcessScan {
  /** Command lines of every process (NUL-separated arguments joined by spaces). */
  cmdlines: string[];
  /** `ps -eo args` output. */
  ps: string;
  /** Where the needle was found: "cmdline <pid>", "environ <pid>", "ps". */
  hits: string[];
}

/** Looks for `needle` in every process's command line and environment (those readable) and in ps. */
export async function scanProcesses(needle: string): Promise<ProcessScan> {
  const cmdlines: string[] = [];
  const hits: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    for (const file of ["cmdline", "environ"] as const) {
      let text: string;
      try {
        text = readFileSync(`/proc/${pid}/${file}`).toString("latin1").replace(/\0/g, " ");
      } catch {
        continue; // gone, or another user's environment
      }
      if (file === "cmdline") cmdlines.push(text);
      if (text.includes(needle)) hits.push(`${file} ${pid}`);
    }
  }
  const ps = (await promisify(execFile)("ps", ["-eo", "args"], { maxBuffer: 16 * 1024 * 1024 })).stdout;
  if (ps.includes(needle)) hits.push("ps");
  return { cmdlines, ps, hits };
}
