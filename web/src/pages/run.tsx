// Placeholder: the run page (job graph, live states, actions) is built in its own change.
export function RunPage() {
  return <h1>Run</h1>;
}
