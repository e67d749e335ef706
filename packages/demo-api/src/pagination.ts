/**
 * RFC 8288 `Link` header for page-numbered listings: `first`, `prev`, `next`, `last`, each the request
 * URL with only `page` changed.
 *
 * @example
 * ```ts
 * paginationLink(new URL('http://localhost:4001/recipes?per_page=10'), { page: 2, perPage: 10, total: 35 });
 * // '<…/recipes?per_page=10&page=1>; rel="first", <…page=1>; rel="prev", <…page=3>; rel="next", <…page=4>; rel="last"'
 * ```
 */
export function paginationLink(url: URL, page: { page: number; perPage: number; total: number }): string {
  const last = Math.max(1, Math.ceil(page.total / page.perPage));
  const at = (n: number) => {
    const target = new URL(url);
    target.searchParams.set('page', String(n));
    return `<${target.href}>`;
  };
  const links = [`${at(1)}; rel="first"`];
  if (page.page > 1) links.push(`${at(Math.min(page.page - 1, last))}; rel="prev"`);
  if (page.page < last) links.push(`${at(page.page + 1)}; rel="next"`);
  links.push(`${at(last)}; rel="last"`);
  return links.join(', ');
}
