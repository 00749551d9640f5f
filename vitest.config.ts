import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Tests talk to loopback servers; a hung socket should fail fast, not stall CI.
    testTimeout: 20_000,
    // Two test files at a time even on 2 cores (the default would be one): most of the suite
    // waits on child processes and sockets, so the wall time nearly halves. No assertion depends
    // on timing; the few timeouts tests use leave a wide margin.
    maxWorkers: 2,
    hookTimeout: 20_000,
  },
});
