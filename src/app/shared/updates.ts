import type { ReactiveController, ReactiveControllerHost } from 'lit';

/**
 * Re-render a component whenever a source it is handed as a property announces a change: subscribes to the current
 * source, follows the property when it changes, and stops when the component leaves the page.  The app's engine
 * (EngineUpdates) and model choice (ChoiceUpdates) are followed this way.
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
