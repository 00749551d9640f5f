import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Tests talk to loopback servers; a hung socket should fail fast, not stall CI.
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
