// Package apptest holds the end-to-end tests of the explorer at "/": headless
// Chromium driving the page against the full HTTP stack over PostgreSQL with
// the reference data. It has no code of its own; the tests save a screenshot
// of each main screen under artifacts/, which git ignores.
package apptest
