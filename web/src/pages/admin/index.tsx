// Placeholder: the administration pages are built in their own change.
export function AdminRoutes() {
  return <h1>Administration</h1>;
}
