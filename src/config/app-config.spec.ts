import { ConfigError, loadConfig } from 'src/config/app-config';

describe('loadConfig', () => {
  it('gives working defaults for an embedded first run', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 3000, DATA_DIR: 'data', POLICY_FILE: 'policies/access.yaml' });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('refuses bad values and names each one', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' })).toThrow(
      ConfigError,
    );
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
    } catch (err) {
      const message = (err as ConfigError).message;
      expect(message).toContain('PORT');
      expect(message).toContain('DATABASE_URL');
      expect(message).toContain('LOG_LEVEL');
    }
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ REDIS_URL: '' }).REDIS_URL).toBeUndefined();
  });

  it('needs a well-formed secret with the reviewers webhook', () => {
    expect(() => loadConfig({ REVIEW_WEBHOOK_URL: 'https://hooks.example/reviews' })).toThrow(
      /REVIEW_WEBHOOK_SECRET: required/,
    );
    expect(() =>
      loadConfig({ REVIEW_WEBHOOK_URL: 'https://hooks.example/reviews', REVIEW_WEBHOOK_SECRET: 'hunter2' }),
    ).toThrow(/REVIEW_WEBHOOK_SECRET/);
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    expect(
      loadConfig({ REVIEW_WEBHOOK_URL: 'https://hooks.example/reviews', REVIEW_WEBHOOK_SECRET: secret }),
    ).toMatchObject({ REVIEW_WEBHOOK_SECRET: secret, REVIEW_WEBHOOK_ATTEMPTS: 10 });
  });
});
