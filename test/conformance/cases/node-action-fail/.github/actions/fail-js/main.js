// Fails the step the way @actions/core setFailed does: an error annotation and exit code 1.
console.log("::error::deliberate failure");
process.exitCode = 1;
