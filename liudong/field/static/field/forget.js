// On the site's sign-in page (where signing out lands): the field app's copy of a grid's
// people, to-dos, lists and keys is removed from this browser, so whoever signs in next does
// not find the previous account's data. The queue of waiting actions stays: each action is
// its account's and is shown and sent only when that account signs in again.

import { DB_NAME, wipeGridData } from "./store.js";

async function forget() {
  // Only a browser that used the field app has the database; opening it elsewhere would
  // create an empty one.
  if (typeof indexedDB.databases === "function") {
    const names = (await indexedDB.databases()).map((db) => db.name);
    if (!names.includes(DB_NAME)) return;
  }
  await wipeGridData();
  document.documentElement.dataset.fieldForgotten = "1";
}

forget().catch(() => {
  document.documentElement.dataset.fieldForgotten = "failed";
});
