/** Unit tests sit beside the code (*.spec.ts, in src/ and bench/); integration and e2e tests use real PostgreSQL and Redis (test/). */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
  },
];
const common = {
  transform: { '^.+\\.ts$': swc },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: { '^(src|migrations|test)/(.*)$': '<rootDir>/$1/$2' },
  testEnvironment: '<rootDir>/test/support/node-environment.js',
};
module.exports = {
  // Integration files start the whole gateway (database, Redis, the model); on a busy 2-core machine that can
  // take longer than Jest's default 5 s. (A global option: projects do not read it.)
  testTimeout: 30_000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      rootDir: __dirname,
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/bench/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts', '<rootDir>/test/**/*.int-spec.ts'],
    },
  ],
};
