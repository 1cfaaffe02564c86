import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('config', () => {
  it('applies defaults and converts types', () => {
    const c = loadConfig({ PORT: '8080', TRUST_PROXY: 'true', CORS_ORIGINS: '' });
    expect(c).toMatchObject({ PORT: 8080, TRUST_PROXY: true, HOST: '127.0.0.1', PLINTH_DATA_DIR: './.plinth', ACCESS_TOKEN_TTL_SECONDS: 900 });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it('lists every invalid variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', ACCESS_TOKEN_TTL_SECONDS: '5' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.split('=')[0]).sort()).toEqual(['ACCESS_TOKEN_TTL_SECONDS', 'DATABASE_URL', 'LOG_LEVEL', 'PORT']);
    expect((error as Error).message).toContain('PORT="eighty"');
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).PORT).toBe(3000);
  });
});
