console.log("::error::post of default-if ran");
process.exit(1);
