// Preloaded (`node --import`) by log-flush-on-exit.test.ts: SIGUSR2 throws from the event loop,
// an uncaught exception that ends the process as a crash would.
process.on('SIGUSR2', () => {
  setImmediate(() => {
    throw new Error('simulated crash');
  });
});
