// "Run workflow" on a repository's runs page (GitHub's button of the same name): a manual run of a
// branch, tag or commit's workflows, as `airlock runs trigger` makes it — the push event by
// default, or workflow_dispatch with inputs (one `name=value` per line). Shown only to users who
// may start runs there (runs.write); the server decides again. A refused request keeps the form
// as typed and shows the server's one line.
import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { messageOf, post } from "../api.js";
import { ErrorLine } from "./ui.js";
import { parseInputs } from "../lib/inputs.js";

export function TriggerRun({
  repositoryId,
  defaultBranch,
}: {
  repositoryId: number;
  defaultBranch?: string;
}) {
  const { route } = useLocation();
  const [open, setOpen] = useState(false);
  const [ref, setRef] = useState("");
  const [event, setEvent] = useState("push");
  const [inputText, setInputText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  if (!open)
    return (
      <button type="button" class="primary" data-testid="trigger-open" onClick={() => setOpen(true)}>
        Run workflow
      </button>
    );
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const { inputs, bad } = parseInputs(inputText);
    if (bad.length > 0) {
      setError(`inputs: line ${bad.join(", ")} is not name=value`);
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const r = await post<{ runs: Array<{ id: number }> }>(`/repositories/${repositoryId}/runs`, {
        ...(ref.trim() ? { ref: ref.trim() } : {}),
        event,
        ...(event === "workflow_dispatch" && Object.keys(inputs).length > 0 ? { inputs } : {}),
      });
      const first = r.runs[0];
      if (r.runs.length === 1 && first) route(`/runs/${first.id}`);
      else {
        setOpen(false);
        setError(r.runs.length === 0 ? "no workflow runs on this event at that commit" : undefined);
      }
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="trigger card" data-testid="trigger-form" onSubmit={(e) => void submit(e)}>
      <label>
        Branch, tag or ref
        <input
          name="ref"
          value={ref}
          placeholder={defaultBranch ?? "the default branch"}
          onInput={(e) => setRef(e.currentTarget.value)}
          data-testid="trigger-ref"
        />
      </label>
      <label>
        Event
        <select
          name="event"
          value={event}
          onChange={(e) => setEvent(e.currentTarget.value)}
          data-testid="trigger-event"
        >
          <option value="push">push</option>
          <option value="workflow_dispatch">workflow_dispatch</option>
        </select>
      </label>
      {event === "workflow_dispatch" && (
        <label>
          Inputs (one name=value per line)
          <textarea
            name="inputs"
            rows={3}
            value={inputText}
            onInput={(e) => setInputText(e.currentTarget.value)}
            data-testid="trigger-inputs"
          />
        </label>
      )}
      <ErrorLine error={error} />
      <button type="submit" disabled={busy} data-testid="trigger-submit">
        {busy ? "Starting…" : "Run"}
      </button>{" "}
      <button type="button" onClick={() => setOpen(false)}>
        Close
      </button>
    </form>
  );
}
