import { describeUnexpected } from './safe-error.filter';
import { jsonShapeProblem } from './json-shape';

describe(describeUnexpected.name, () => {
  it("logs a database error's name, code, message and frames, never its query parameters", () => {
    const e = Object.assign(new Error('unsupported Unicode escape sequence'), {
      name: 'QueryFailedError',
      code: '22P05',
      query: 'INSERT INTO "jobs" …',
      parameters: ['{"hyperparameters":{"epochs":1},"parties":[]}'],
    });
    const line = describeUnexpected(e);
    expect(line).toMatch(/^QueryFailedError \(22P05\): unsupported Unicode escape sequence\n\s+at /);
    expect(line).not.toContain('INSERT');
    expect(line).not.toContain('hyperparameters');
  });
});

describe(jsonShapeProblem.name, () => {
  it('walks 50,000 levels without recursion and names the field, not the value', () => {
    let deep: unknown = 'Zq7SecretCanary';
    for (let i = 0; i < 50_000; i++) deep = { a: deep };
    expect(jsonShapeProblem({ nn: deep })).toBe('nn.a.a.…(27 levels)….a.a is nested more than 32 levels deep');
    expect(jsonShapeProblem({ ids: ['ok', 'Zq7\u0000'] })).toBe(
      'ids.1 contains a NUL byte (U+0000), which no field may hold',
    );
    expect(jsonShapeProblem({ parties: [{ data: { path: 'bank.csv' } }] })).toBeUndefined();
  });
});
