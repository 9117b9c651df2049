/** Unit tests live beside each lib (libs/<lib>/test), e2e tests under test/. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  // The libs' path aliases (tsconfig.json paths; tsc-alias rewrites them in the build).
  moduleNameMapper: { '^@vfl/([a-z]+)$': '<rootDir>/libs/$1/src' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  testTimeout: 120000,
};
