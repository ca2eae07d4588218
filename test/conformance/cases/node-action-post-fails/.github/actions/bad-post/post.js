// Post part fails, which must fail the job after all main steps passed.
console.log("::error::post failed");
process.exit(1);
