console.log("::error::post of on-cancel ran");
process.exit(1);
