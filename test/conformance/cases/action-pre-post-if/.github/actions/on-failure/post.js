console.log("::error::post of on-failure ran");
process.exit(1);
