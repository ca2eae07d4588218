// Saves state for the post step through GITHUB_STATE.
const fs = require("fs");
fs.appendFileSync(process.env.GITHUB_STATE, "token=abc123\n");
fs.appendFileSync(process.env.GITHUB_STATE, "multi<<END\nline1\nline2\nEND\n");
