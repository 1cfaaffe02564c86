import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // Three files at a time, not vitest's default (cores - 1, one file on a 2-core machine): most of a
    // test's time is spent waiting on PostgreSQL, argon2 or a child process, so the files overlap well
    // (the suite took ~620 s one file at a time and ~450 s three at a time here).
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
