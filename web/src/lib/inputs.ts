// workflow_dispatch inputs as the "Run workflow" form takes them: one name=value per line.

/** `name=value` lines as inputs; the line numbers of those without a `=`. */
export function parseInputs(text: string): { inputs: Record<string, string>; bad: number[] } {
  const inputs: Record<string, string> = {};
  const bad: number[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const eq = line.indexOf("=");
    if (eq <= 0) bad.push(i + 1);
    else inputs[line.slice(0, eq).trim()] = line.slice(eq + 1);
  });
  return { inputs, bad };
}
