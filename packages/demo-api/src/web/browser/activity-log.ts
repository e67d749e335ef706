/** What kind of line the log shows (refreshes are styled so they stand out). */
export type ActivityKind = 'info' | 'refresh' | 'error';

/**
 * The page's activity log: an `aria-live` list, newest line first, at most `limit` lines.
 *
 * @example
 * ```ts
 * const log = new ActivityLog(document.querySelector('#activity-log')!);
 * log.add('Signed in');
 * ```
 */
export class ActivityLog {
  readonly #list: HTMLOListElement;
  readonly #limit: number;

  constructor(list: HTMLOListElement, limit = 50) {
    this.#list = list;
    this.#limit = limit;
  }

  add(message: string, kind: ActivityKind = 'info'): void {
    const item = document.createElement('li');
    item.className = kind;
    item.dataset.kind = kind;
    const time = document.createElement('time');
    const now = new Date();
    time.dateTime = now.toISOString();
    time.textContent = now.toLocaleTimeString();
    item.append(time, message);
    this.#list.prepend(item);
    while (this.#list.children.length > this.#limit) this.#list.lastElementChild?.remove();
  }
}
