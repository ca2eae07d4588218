console.log(`post sees state ${process.env.STATE_started}`);
