console.log("::error::pre must not run for a local action");
process.exit(1);
