// Reading secrets for the CLI without putting them on a command line: all of standard input
// (`--password-stdin`, `--with-token`), or a question on the terminal that does not echo what is
// typed (raw mode, so the password never reaches the screen or the shell's history).
import { createInterface } from "node:readline";

export async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** The first line of `text`, without its line ending. */
export function firstLine(text: string): string {
  const i = text.search(/\r?\n/);
  return i < 0 ? text : text.slice(0, i);
}

export function terminalPrompt(question: string, hidden: boolean): Promise<string> {
  const stdin = process.stdin;
  const out = process.stderr;
  if (!hidden) {
    const rl = createInterface({ input: stdin, output: out, terminal: true });
    return new Promise((resolve) =>
      rl.question(question, (answer) => {
        rl.close();
        resolve(answer);
      }),
    );
  }
  return new Promise((resolve, reject) => {
    out.write(question);
    let answer = "";
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding("utf8");
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      out.write("\n");
      if (err) reject(err);
      else resolve(answer);
    };
    const onData = (s: string): void => {
      for (const ch of s) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003") return done(new Error("interrupted"));
        if (ch === "\u007f" || ch === "\b") answer = answer.slice(0, -1);
        else if (ch >= " ") answer += ch;
      }
    };
    stdin.on("data", onData);
  });
}
