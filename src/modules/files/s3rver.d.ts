// @20minutes/s3rver ships no types; the tests use run() and close() only.
declare module '@20minutes/s3rver';
