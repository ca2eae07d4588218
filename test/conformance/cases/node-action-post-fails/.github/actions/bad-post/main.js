// Main part succeeds.
console.log("main ok");
