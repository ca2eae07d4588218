console.log("::error::post of env-guarded ran");
process.exit(1);
