/**
 * The running recording's high-rate data: statistics ten times a second and log-mel columns.  Only the components
 * that show them subscribe (the elapsed time and level meter, the mel view); nothing else re-renders for them.
 */

import type { ReactiveControllerHost } from 'lit';
import type { CaptureStats, MelColumns } from '../../core/protocol.ts';
import { Listeners, UpdatesFrom } from '../shared/updates.ts';

export class CaptureFeed {
  /** The latest statistics of the running (or last) recording. */
  latest: CaptureStats | null = null;
  private readonly stats = new Listeners<CaptureStats>();
  private readonly mel = new Listeners<MelColumns>();

  onStats(listener: (stats: CaptureStats) => void): () => void {
    return this.stats.add(listener);
  }

  onMel(listener: (mel: MelColumns) => void): () => void {
    return this.mel.add(listener);
  }

  pushStats(stats: CaptureStats): void {
    this.latest = stats;
    this.stats.emit(stats);
  }

  pushMel(mel: MelColumns): void {
    this.mel.emit(mel);
  }
}

/** For a component that shows capture statistics (from `feed.latest`): re-renders it on each. */
export class CaptureStatsUpdates extends UpdatesFrom<CaptureFeed> {
  constructor(host: ReactiveControllerHost, current: () => CaptureFeed | undefined) {
    super(host, current, (feed, onChange) => feed.onStats(onChange));
  }
}
