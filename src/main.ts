/**
 * Entry point of the main thread: mounts the app shell.
 */
import './app/asr-app.ts';
