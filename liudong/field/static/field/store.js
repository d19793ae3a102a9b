// The phone's own copy (issue 18): IndexedDB database "liudong-field".
//
// Two kinds of data live here and are treated differently:
// - the grid's data (stores meta, people, todos, lists, keys): a copy of what
//   /api/field/bundle/ answered, replaced at every refresh, wiped at sign-out and when
//   another account signs in on this phone;
// - the queue: what the collector did offline, one record per action keyed by its client id
//   and marked with its owner (the account's id). Nothing here ever deletes a queued action
//   except a sync the server answered "applied" and the collector's own "discard".
//
// Schema versions (an upgrade keeps every queued action):
//   1: meta, people, queue (the first field release);
//   2: + todos, lists, keys, and the queue's "owner" index.

export const DB_NAME = "liudong-field";
export const DB_VERSION = 2;
export const GRID_STORES = ["meta", "people", "todos", "lists", "keys"];

function upgrade(db, transaction, oldVersion) {
  if (oldVersion < 1) {
    db.createObjectStore("meta", { keyPath: "key" });
    db.createObjectStore("people", { keyPath: "id" });
    db.createObjectStore("queue", { keyPath: "client_id" });
  }
  if (oldVersion < 2) {
    db.createObjectStore("todos", { keyPath: "key" });
    db.createObjectStore("lists", { keyPath: "key" });
    db.createObjectStore("keys", { keyPath: "key_id" });
    transaction.objectStore("queue").createIndex("owner", "owner");
  }
}

let opening = null;

export function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = (event) =>
        upgrade(request.result, request.transaction, event.oldVersion);
      request.onsuccess = () => {
        const db = request.result;
        // Another tab opening a newer schema: let it upgrade, reopen next time.
        db.onversionchange = () => {
          db.close();
          opening = null;
        };
        resolve(db);
      };
      request.onerror = () => {
        opening = null;
        reject(request.error);
      };
      request.onblocked = () => reject(new Error("IndexedDB upgrade blocked by another tab"));
    });
  }
  return opening;
}

// One transaction; resolves when it committed (not merely when the request succeeded), so
// "saved" is said only of what is on disk; rejects with the transaction's error
// (QuotaExceededError when the storage is full) and then nothing of it was kept.
async function run(storeNames, mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    let result;
    let transaction;
    try {
      transaction = db.transaction(storeNames, mode);
    } catch (error) {
      reject(error);
      return;
    }
    transaction.oncomplete = () => resolve(result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error || new DOMException("aborted", "AbortError"));
    try {
      result = work(transaction);
    } catch (error) {
      transaction.abort();
      reject(error);
    }
  });
}

function all(store) {
  return new Promise((resolve, reject) => {
    const request = store.getAll();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function one(store, key) {
  return new Promise((resolve, reject) => {
    const request = store.get(key);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export async function getAll(storeName) {
  const db = await open();
  return all(db.transaction(storeName).objectStore(storeName));
}

export async function get(storeName, key) {
  const db = await open();
  return one(db.transaction(storeName).objectStore(storeName), key);
}

// --- the grid's data ---------------------------------------------------------------------

export async function owner() {
  const bundle = await get("meta", "bundle");
  return bundle ? bundle.user : null;
}

// Replaces the grid's copy with a fresh bundle in one transaction. Another account's
// bundle replaces everything the previous one cached (its queue stays, under its owner).
export async function saveBundle(bundle) {
  await run(GRID_STORES, "readwrite", (transaction) => {
    for (const name of GRID_STORES) transaction.objectStore(name).clear();
    const { people, todos, rental_houses: houses, picklists, keys, ...rest } = bundle;
    transaction.objectStore("meta").put({ key: "bundle", ...rest });
    const peopleStore = transaction.objectStore("people");
    for (const person of people || []) peopleStore.put(person);
    const todoStore = transaction.objectStore("todos");
    for (const [key, items] of Object.entries(todos || {})) todoStore.put({ key, items });
    const lists = transaction.objectStore("lists");
    lists.put({ key: "rental_houses", items: houses || [] });
    lists.put({ key: "picklists", items: picklists || {} });
    const keyStore = transaction.objectStore("keys");
    for (const key of keys || []) keyStore.put(key);
  });
}

export async function wipeGridData() {
  await run(GRID_STORES, "readwrite", (transaction) => {
    for (const name of GRID_STORES) transaction.objectStore(name).clear();
  });
}

// --- the queue ---------------------------------------------------------------------------

function uuid4() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  // Plain-HTTP intranet pages (not a secure context) have no randomUUID; getRandomValues is
  // there in every context.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// The phone's local time with its offset (the server keeps it beside its own).
export function localIso(date = new Date()) {
  const pad = (n) => String(Math.abs(Math.trunc(n))).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`
  );
}

let lastSeq = 0;

// Saves a new waiting action; resolves with it once it is on disk. Rejects (storage full,
// storage unavailable) with nothing kept.
// ``seen``: the file as the phone showed it when the action was done, kept beside the
// action (never sent) so a conflict shows the collector what she saw.
export async function enqueue(ownerId, kind, data, seen = null) {
  lastSeq = Math.max(lastSeq + 1, Date.now());
  const action = {
    client_id: uuid4(),
    owner: ownerId,
    kind,
    data,
    done_at: localIso(),
    seq: lastSeq,
    state: "waiting",
    message: "",
    errors: {},
    server: null,
    seen,
  };
  await run(["queue"], "readwrite", (transaction) => transaction.objectStore("queue").add(action));
  return action;
}

export async function putAction(action) {
  await run(["queue"], "readwrite", (transaction) => transaction.objectStore("queue").put(action));
  return action;
}

export async function deleteActions(clientIds) {
  await run(["queue"], "readwrite", (transaction) => {
    const store = transaction.objectStore("queue");
    for (const id of clientIds) store.delete(id);
  });
}

// This account's actions, oldest first (another account's stay hidden and unsent).
export async function queueOf(ownerId) {
  if (ownerId === null || ownerId === undefined) return [];
  const db = await open();
  const index = db.transaction("queue").objectStore("queue").index("owner");
  const actions = await new Promise((resolve, reject) => {
    const request = index.getAll(ownerId);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return actions.sort((a, b) => (a.seq || 0) - (b.seq || 0));
}
