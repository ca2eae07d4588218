// Placeholder: the runs list (filters, paging) is built in its own change.
import { useTitle } from "../hooks.js";

export function RunsPage() {
  useTitle("Runs");
  return <h1>Runs</h1>;
}
