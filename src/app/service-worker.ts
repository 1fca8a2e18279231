/**
 * Registers the service worker (production builds only) and reports when a new version is waiting; `apply` tells it
 * to take over and reloads the page once it does.
 */
import { Workbox } from 'workbox-window';

export interface UpdateHandle {
  apply(): void;
}

export function registerServiceWorker(onUpdate: (update: UpdateHandle) => void): void {
  if (import.meta.env.DEV || !('serviceWorker' in navigator)) return;
  const wb = new Workbox(`${import.meta.env.BASE_URL}sw.js`);
  wb.addEventListener('waiting', () =>
    onUpdate({
      apply: () => {
        wb.addEventListener('controlling', () => location.reload());
        wb.messageSkipWaiting();
      },
    }),
  );
  // A failed registration (blocked, private mode) only costs offline use; the app itself works.
  wb.register().catch((err: unknown) => console.warn('service worker not registered:', err));
  // Look for a new version when the app comes back to the foreground.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void wb.update().catch(() => undefined);
  });
}
