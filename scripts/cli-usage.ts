/** A command-line mistake: `vfl` prints it with the usage and exits with status 2. */
export class UsageError extends Error {}
