/**
 * The Chromium the browser tests drive (through playwright-core, which brings no browser of its
 * own): Debian's package by default, CHROMIUM_PATH elsewhere (a macOS install, a CI image's).
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
