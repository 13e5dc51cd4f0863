/** Who a token speaks for: a sensor streams audio; an operator watches and handles alerts; an admin also manages. */
export type Role = 'sensor' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['sensor', 'operator', 'admin'];

const RANK: Record<Role, number> = { sensor: 0, operator: 1, admin: 2 };

/** True when a token of role `have` may do what needs `need` (admin > operator > sensor). */
export function roleAllows(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

/** Narrows a string to a `Role`. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
