// Placeholder: the job log page is built in its own change.
export function JobPage() {
  return <h1>Job</h1>;
}
