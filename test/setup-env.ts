// Tests run with NODE_ENV=test: quiet logs, no .env loading, no embedded PostgreSQL.
process.env.NODE_ENV = 'test';
