/**
 * The service worker (Workbox, bundled by vite-plugin-pwa's injectManifest; no CDN): precaches the app shell, the
 * worker and worklet bundles and onnxruntime's wasm/mjs, so the app starts and runs with the network off.  Model
 * files are not here: they live in IndexedDB (workers/model-store/), and requests for them go to the network untouched.
 *
 * A new version waits until the page asks it to take over (the update prompt), then the page reloads.
 */
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

declare const self: ServiceWorkerGlobalScope & {
  __WB_MANIFEST: (string | { url: string; revision: string | null })[];
};

/** Reported to the page (tests check which service worker is in control). */
const SW_VERSION = 'glm-asr-sw/1';

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
// Every page URL is the app (SPA), except server endpoints and model files.
registerRoute(
  new NavigationRoute(createHandlerBoundToURL('index.html'), {
    denylist: [/^\/models\//, /^\/v1\//, /^\/healthz/],
  }),
);

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  const data = event.data as { type?: string } | null;
  if (data?.type === 'SKIP_WAITING') void self.skipWaiting();
  if (data?.type === 'GET_VERSION') event.ports[0]?.postMessage(SW_VERSION);
});

clientsClaim();
