// Unit-test environment: an in-memory IndexedDB for Dexie.
import 'fake-indexeddb/auto'
