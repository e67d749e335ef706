import type { GatehouseClient } from '@gatehouse/client';

/** A recipe as the demo API returns it. */
export interface Recipe {
  id: string;
  name: string;
  description: string;
  num_of_servings: number | null;
  cook_time: number | null;
  ingredients: string[];
  directions: string;
  is_publish: boolean;
  user_id: string;
  created_at: string;
  updated_at: string;
}

/** The editable fields of a recipe. */
export type RecipeInput = Pick<
  Recipe,
  'name' | 'description' | 'num_of_servings' | 'cook_time' | 'ingredients' | 'directions'
>;

/** One page of a listing. */
export interface RecipePage {
  data: Recipe[];
  page: number;
  per_page: number;
  total: number;
}

/** `GET /me`: who the access token belongs to. */
export interface Me {
  sub: string;
  client_id: string;
  scope: string;
}

/**
 * The demo API's routes as the page uses them: authenticated calls through the SDK's ky instance
 * (bearer token, one renewal and one retry on 401), the public listing with plain fetch.
 *
 * @example
 * ```ts
 * const api = recipesApi(auth.http, 'http://localhost:4001');
 * const mine = await api.myRecipes();
 * ```
 */
export function recipesApi(http: GatehouseClient['http'], apiUrl: string) {
  const url = (path: string) => `${apiUrl}${path}`;
  return {
    me: () => http.get(url('/me')).json<Me>(),
    myRecipes: () => http.get(url('/me/recipes?per_page=100')).json<RecipePage>(),
    create: (input: RecipeInput) => http.post(url('/recipes'), { json: input }).json<Recipe>(),
    update: (id: string, input: RecipeInput) =>
      http.patch(url(`/recipes/${encodeURIComponent(id)}`), { json: input }).json<Recipe>(),
    remove: async (id: string) => {
      await http.delete(url(`/recipes/${encodeURIComponent(id)}`));
    },
    setPublished: async (id: string, published: boolean) => {
      const path = url(`/recipes/${encodeURIComponent(id)}/publish`);
      await (published ? http.put(path) : http.delete(path));
    },
    async published(query: { q: string; page: number; perPage: number }): Promise<RecipePage> {
      const params = new URLSearchParams({ page: String(query.page), per_page: String(query.perPage) });
      if (query.q) params.set('q', query.q);
      const response = await fetch(url(`/recipes?${params}`));
      if (!response.ok) throw new Error(`the recipe list answered ${response.status}`);
      return (await response.json()) as RecipePage;
    },
  };
}

/** The API client {@link recipesApi} returns. */
export type RecipesApi = ReturnType<typeof recipesApi>;

/**
 * A sentence for a failed call: the API's `error_description` when it sent one.
 *
 * @example
 * ```ts
 * showError(describeError(error));
 * ```
 */
export function describeError(error: unknown): string {
  const data = (error as { data?: unknown }).data;
  if (typeof data === 'object' && data !== null) {
    const { error: code, error_description: description } = data as Record<string, unknown>;
    if (typeof description === 'string') return description;
    if (typeof code === 'string') return code;
  }
  return error instanceof Error ? error.message : String(error);
}
