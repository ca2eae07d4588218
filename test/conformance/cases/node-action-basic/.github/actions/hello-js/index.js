// Reads inputs from INPUT_* variables and writes an output through GITHUB_OUTPUT.
const fs = require("fs");
const who = process.env.INPUT_WHO || "";
const greeting = process.env.INPUT_GREETING || "";
if (!who || !greeting) {
  console.log("::error::missing input");
  process.exit(1);
}
fs.appendFileSync(process.env.GITHUB_OUTPUT, `text=${greeting} ${who}\n`);
