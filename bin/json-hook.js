// ESM load hook: @actions/workflow-parser imports its JSON schemas without an import
// attribute (fine for bundlers, refused by Node). Give .json modules the attribute they need.
export async function load(url, context, nextLoad) {
  if (url.endsWith(".json")) {
    return nextLoad(url, { ...context, importAttributes: { ...context.importAttributes, type: "json" } });
  }
  return nextLoad(url, context);
}
