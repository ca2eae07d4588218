const fs = require("node:fs");
const { Client } = require("/opt/node_modules/pg");
(async () => {
  const client = new Client({
    host: process.env.INPUT_HOST,
    port: Number(process.env.INPUT_PORT || 5432),
    user: "postgres",
    database: "postgres",
  });
  await client.connect();
  const { rows } = await client.query("SELECT 6 * 7 AS answer");
  await client.end();
  console.log(`the database says ${rows[0].answer}`);
  fs.appendFileSync(process.env.GITHUB_OUTPUT, `answer=${rows[0].answer}\n`);
})().catch((e) => {
  console.log(`::error::${e.message}`);
  process.exit(1);
});
