console.log("post-ok ran");
