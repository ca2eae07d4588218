// Parsing of workflow commands (`::name k=v,k2=v2::data`) printed by steps, as in
// actions/runner's ActionCommand.TryParseV2: leading whitespace is ignored, command names are
// case-insensitive and only registered names are commands (anything else is a plain log line).

export interface WorkflowCommand {
  /** Lower-cased command name. */
  name: string;
  properties: Record<string, string>;
  data: string;
}

/** Commands the runner knows; `stop-commands` resume tokens are added per step at run time. */
export const KNOWN_COMMANDS: ReadonlySet<string> = new Set([
  "add-mask",
  "group",
  "endgroup",
  "error",
  "warning",
  "notice",
  "debug",
  "stop-commands",
  "set-output",
  "save-state",
  "set-env",
  "add-path",
  "echo",
  "add-matcher",
  "remove-matcher",
]);

const DATA_ESCAPES: Array<[string, string]> = [
  ["%0D", "\r"],
  ["%0A", "\n"],
  ["%25", "%"],
];
const PROPERTY_ESCAPES: Array<[string, string]> = [
  ["%0D", "\r"],
  ["%0A", "\n"],
  ["%3A", ":"],
  ["%2C", ","],
  ["%25", "%"],
];

function unescape(s: string, table: Array<[string, string]>): string {
  // Sequential replaceAll in actions/runner's order: "%250A" becomes "%0A", not a newline.
  let out = s;
  for (const [from, to] of table) out = out.split(from).join(to);
  return out;
}

export const unescapeData = (s: string): string => unescape(s, DATA_ESCAPES);
export const unescapeProperty = (s: string): string => unescape(s, PROPERTY_ESCAPES);

/**
 * Parses one output line. `isRegistered(name)` decides whether a name is a command (names are
 * compared lower-cased). Returns undefined for plain lines.
 */
export function parseCommand(
  line: string,
  isRegistered: (name: string) => boolean,
): WorkflowCommand | undefined {
  const msg = line.trimStart();
  if (!msg.startsWith("::")) return undefined;
  const end = msg.indexOf("::", 2);
  if (end < 0) return undefined;
  const info = msg.slice(2, end);
  const space = info.indexOf(" ");
  const name = (space < 0 ? info : info.slice(0, space)).toLowerCase();
  if (name === "" || !isRegistered(name)) return undefined;
  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const part of info
      .slice(space + 1)
      .trim()
      .split(",")) {
      if (part === "") continue;
      const eq = part.indexOf("=");
      // C#'s Split('=', 2, RemoveEmptyEntries): "k=" and "=v" have fewer than two parts.
      if (eq <= 0 || eq === part.length - 1) continue;
      properties[part.slice(0, eq).toLowerCase()] = unescapeProperty(part.slice(eq + 1));
    }
  }
  return { name, properties, data: unescapeData(msg.slice(end + 2)) };
}
