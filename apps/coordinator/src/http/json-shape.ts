/**
 * The shape every JSON body must have before anything else reads it: nested at most
 * MAX_BODY_DEPTH levels (class-transformer and class-validator recurse, and a body nested 3,000
 * levels deep overflowed the stack inside validation), and no NUL byte in any string or property
 * name (PostgreSQL refuses U+0000 in jsonb, and the request failed only at the insert). The walk
 * is iterative, so no body can overflow it, and it stops at the first problem.
 */

/** Deepest nesting of objects and arrays a body may have (a job's deepest field is 6 levels down). */
export const MAX_BODY_DEPTH = 32;

/**
 * The first problem with a parsed JSON body, naming the field (`parties.0.data.path`), never its value.
 *
 * @returns undefined when the body is fine
 */
export function jsonShapeProblem(body: unknown, maxDepth = MAX_BODY_DEPTH): string | undefined {
  const stack: { value: unknown; at: readonly string[] }[] = [{ value: body, at: [] }];
  while (stack.length > 0) {
    const { value, at } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\0')) return `${fieldName(at)} contains a NUL byte (U+0000), which no field may hold`;
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (at.length >= maxDepth) return `${fieldName(at)} is nested more than ${maxDepth} levels deep`;
    for (const [key, child] of Object.entries(value)) {
      if (key.includes('\0')) return `${fieldName(at)} has a property name with a NUL byte (U+0000)`;
      stack.push({ value: child, at: [...at, key] });
    }
  }
  return undefined;
}

/** `a.b.0.c`, each name shown only when it is a plain identifier; long paths are cut in the middle. */
function fieldName(at: readonly string[]): string {
  if (at.length === 0) return 'the body';
  const names = at.map((k) => (/^[A-Za-z0-9_-]{1,64}$/.test(k) ? k : '[…]'));
  const shown = names.length > 6 ? [...names.slice(0, 3), `…(${names.length - 5} levels)…`, ...names.slice(-2)] : names;
  return shown.join('.');
}
