console.log("::error::post ran");
process.exit(1);
