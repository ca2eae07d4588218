console.log("pre step ran");
