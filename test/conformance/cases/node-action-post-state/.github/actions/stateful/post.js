// The post step sees the state saved by main as STATE_<name>.
if (process.env.STATE_token !== "abc123" || process.env.STATE_multi !== "line1\nline2") {
  console.log("::error::state not restored");
  process.exit(1);
}
console.log("state restored");
