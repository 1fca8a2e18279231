/**
 * What the model store holds (the worker's report, refreshed after loads and deletes) and whether the browser made
 * this origin's storage persistent: the settings panel shows both.
 */

import type { ModelKey } from '../../core/asr/contract.ts';
import type { StorageReport } from '../../core/protocol.ts';
import type { Calls } from './calls.ts';

export class StorageState {
  report: StorageReport | null = null;
  persisted: boolean | null = null;

  constructor(
    private readonly calls: Calls,
    private readonly changed: () => void,
  ) {}

  /** Ask the browser to keep our storage under pressure (Window-only API). */
  async requestPersistence(): Promise<boolean | null> {
    try {
      const s = navigator.storage;
      if (!s?.persist) return (this.persisted = null);
      this.persisted = (await s.persisted()) || (await s.persist());
    } catch {
      this.persisted = null;
    }
    this.changed();
    return this.persisted;
  }

  async refresh(): Promise<StorageReport> {
    this.report = await this.calls.call('storage-list', {});
    if (this.persisted === null) this.persisted = (await navigator.storage?.persisted?.().catch(() => null)) ?? null;
    this.changed();
    return this.report;
  }

  async delete(key: ModelKey): Promise<void> {
    this.report = await this.calls.call('storage-delete', { key });
    this.changed();
  }
}
