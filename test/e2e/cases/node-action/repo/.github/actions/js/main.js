const fs = require("fs");
const greeting = process.env["INPUT_GREETING"];
console.log(`main says ${greeting}`);
fs.appendFileSync(process.env.GITHUB_OUTPUT, `length=${greeting.length}\n`);
fs.appendFileSync(process.env.GITHUB_STATE, `started=yes-${greeting}\n`);
