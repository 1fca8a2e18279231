import type { ReactiveController, ReactiveControllerHost } from 'lit';

/**
 * A set of listeners: `add` returns the unsubscribe function, `emit` calls each.  The worker client, the library
 * and the model choice announce their changes this way.
 */
export class Listeners<T = void> {
  private readonly listeners = new Set<(value: T) => void>();

  add(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(value: T): void {
    for (const listener of this.listeners) listener(value);
  }
}

/**
 * Re-render a component whenever a source it is handed as a property announces a change: subscribes to the current
 * source, follows the property when it changes, and stops when the component leaves the page.  The worker client
 * (ClientUpdates), the library (LibraryUpdates) and the model choice (ChoiceUpdates) are followed this way.
 */
export class UpdatesFrom<T> implements ReactiveController {
  private source: T | undefined;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly current: () => T | undefined,
    private readonly subscribe: (source: T, onChange: () => void) => () => void,
  ) {
    host.addController(this);
  }

  hostUpdate(): void {
    const source = this.current();
    if (source === this.source) return;
    this.unsubscribe?.();
    this.source = source;
    this.unsubscribe = source === undefined ? null : this.subscribe(source, () => this.host.requestUpdate());
  }

  hostDisconnected(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.source = undefined;
  }
}
