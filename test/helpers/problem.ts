import { expect } from 'vitest';

export interface ProblemLike {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  text: string;
}

/** A problem document with exactly this status and code; `where` names the case on failure. */
export function expectProblem(response: ProblemLike, status: number, code: string, where = '') {
  const context = `${where} → ${response.status} ${response.text.slice(0, 300)}`;
  expect(
    { status: response.status, code: (response.body as { code?: string } | null)?.code },
    context,
  ).toEqual({ status, code });
  expect(response.headers['content-type'], context).toMatch(/^application\/problem\+json/);
}
