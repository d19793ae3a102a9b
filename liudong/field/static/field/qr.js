// A certificate's QR code on the collector's phone: decode it from a camera frame or a photo
// (jsQR), read the signed payload and check its signature offline against the node keys the
// phone cached with its bundle (tweetnacl, Ed25519).
//
// The rules are liudong/certificates/payload.py's, to the character: whatever Python calls
// malformed is malformed here, and a payload Python reads is read here to the same fields
// (a browser test compares the two on payloads issued by the real services and on random
// names). The server checks every recorded verification again: what the phone concludes is
// only what the collector is told at the door.
//
// jsQR and tweetnacl are classic (UMD) scripts that set the globals `jsQR` and `nacl`. The
// field shell loads them with <script> tags (field/_verify.html); a page that imports this
// module without them (a test, the service worker's first run) gets them loaded on demand
// from the same static folder (CSP script-src 'self' allows it).

const VENDOR = {
  jsQR: new URL("../vendor/jsqr/jsQR.js", import.meta.url).href,
  nacl: new URL("../vendor/tweetnacl/nacl.min.js", import.meta.url).href,
};

const PREFIX = "LD1";
const ALGORITHMS = { ED25519: "ed25519", SM2: "sm2" };
const ED25519 = "ed25519";
const SIGNATURE_LENGTH = 64;
const FIELD_COUNT = 9;
const DOMAIN = "liudong certificate v1\n";

// Python's `\d` is any Unicode decimal digit (category Nd) and its `$` also matches before a
// final newline: mirrored, so the phone never calls well-formed what the server refuses, nor
// the other way round.
const NUMBER_RE = /^(\p{Nd}{9})-(\p{Nd}{4})-(\p{Nd}{6,})\n?$/u;
const ID_RE = /^\p{Nd}{17}[\p{Nd}X]\n?$/u;
const KEY_RE = /^[0-9a-z]{1,16}\n?$/;
const B32_RE = /^[A-Z2-7]+$/;
const ASCII_DIGITS = /^[0-9]+$/;
const B32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
// The characters Python's str.strip() removes (str.isspace), which differ from JS's trim().
const PY_SPACE = "[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const PY_STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, "g");

export const STATUSES = ["valid", "invalid", "expired", "unknown_key", "malformed", "unsupported"];

export class Malformed extends Error {}

const loading = {};

// The shell's deferred classic scripts run before DOMContentLoaded, but after a module in the
// head (app.js) may already ask for them: wait for that first, and load a copy only when the
// page carries none.
function parsed() {
  if (typeof document === "undefined" || document.readyState !== "loading") {
    return Promise.resolve();
  }
  return new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }));
}

async function loadScript(name) {
  if (globalThis[name]) {
    return globalThis[name];
  }
  await parsed();
  if (globalThis[name]) {
    return globalThis[name];
  }
  if (!loading[name]) {
    loading[name] = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = VENDOR[name];
      script.onload = () => (globalThis[name] ? resolve(globalThis[name]) : reject(new Error(name)));
      script.onerror = () => {
        delete loading[name];
        reject(new Error(`cannot load ${name}`));
      };
      document.head.append(script);
    });
  }
  return loading[name];
}

/** Load the decoder and the signature library (once); resolves when both are there. */
export function ready() {
  return Promise.all([loadScript("jsQR"), loadScript("nacl")]);
}

/** The QR text in an ImageData (a canvas frame or a photo), or null when none is found. */
export function decodeImageData(imageData) {
  if (!globalThis.jsQR) {
    throw new Error("jsQR is not loaded: await ready() first");
  }
  const found = globalThis.jsQR(imageData.data, imageData.width, imageData.height, {
    inversionAttempts: "attemptBoth",
  });
  return found ? found.data : null;
}

function pyStrip(text) {
  return text.replace(PY_STRIP, "");
}

/** The payload in what a camera read: the payload, or the link https://HOST/verify/#LD1...
 * (anything before the fragment is ignored: the signature is what counts). */
export function fromScanned(text) {
  const stripped = pyStrip(String(text));
  const at = stripped.lastIndexOf("#");
  return at >= 0 ? pyStrip(stripped.slice(at + 1)) : stripped;
}

function b32encode(bytes) {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) {
    out += B32_ALPHABET[(value << (5 - bits)) & 31];
  }
  return out;
}

// Strict: upper-case A-Z2-7, no padding, and the one text that encodes its bytes (unused low
// bits zero, no dangling character), as payload._unb32 demands.
function b32decode(text, what) {
  if (!B32_RE.test(text)) {
    throw new Malformed(`the ${what} is not base32 text`);
  }
  const bytes = new Uint8Array(Math.floor((text.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let index = 0;
  for (const char of text) {
    value = (value << 5) | B32_ALPHABET.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      if (index < bytes.length) {
        bytes[index] = (value >>> (bits - 8)) & 255;
      }
      index += 1;
      bits -= 8;
    }
    value &= (1 << bits) - 1;
  }
  if (b32encode(bytes) !== text) {
    throw new Malformed(`the ${what} is not in canonical form`);
  }
  return bytes;
}

function splitMax(text, separator, maxsplit) {
  const parts = [];
  let rest = text;
  while (parts.length < maxsplit) {
    const at = rest.indexOf(separator);
    if (at < 0) {
      break;
    }
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + separator.length);
  }
  parts.push(rest);
  return parts;
}

function codePoints(text) {
  return Array.from(text).length;
}

function isoDate(text, what) {
  if (text.length !== 8 || !ASCII_DIGITS.test(text)) {
    throw new Malformed(`the ${what} is not a date`);
  }
  const year = Number(text.slice(0, 4));
  const month = Number(text.slice(4, 6));
  const day = Number(text.slice(6));
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year);
  // Python's date(): year 1-9999 (strftime writes a year below 1000 without its zeros, so the
  // body is then not canonical: refused as well), a real month and day.
  if (
    year < 1000 ||
    month < 1 ||
    month > 12 ||
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day
  ) {
    throw new Malformed(`the ${what} is not a date`);
  }
  return `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6)}`;
}

function sameBytes(a, b) {
  if (a.length !== b.length) {
    return false;
  }
  return a.every((byte, index) => byte === b[index]);
}

/** {algorithm, body (bytes), signature (bytes), fields} of a payload of either version or
 * its link; throws Malformed (only) for anything payload.decode_any refuses. */
export function parsePayload(input) {
  if (typeof input !== "string") {
    throw new Malformed("a payload is text");
  }
  let pieces = fromScanned(input).split(".");
  let algorithm;
  if (pieces.length === 3 && pieces[0] === PREFIX) {
    algorithm = ED25519;
  } else if (pieces.length === 4 && pieces[0] === "LD2" && Object.hasOwn(ALGORITHMS, pieces[1])) {
    algorithm = ALGORITHMS[pieces[1]];
    pieces = [pieces[0], pieces[2], pieces[3]];
  } else {
    throw new Malformed("a certificate payload has the form LD1.BODY.SIGNATURE");
  }
  const body = b32decode(pieces[1], "body");
  const signature = b32decode(pieces[2], "signature");
  if (signature.length !== SIGNATURE_LENGTH) {
    throw new Malformed("the signature has the wrong length");
  }
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw new Malformed("the body is not UTF-8 text");
  }
  const parts = splitMax(text, "|", FIELD_COUNT - 1);
  if (parts.length !== FIELD_COUNT) {
    throw new Malformed("the body has the wrong number of fields");
  }
  const [number, idNumber, birth, marital, children, issued, until, keyId, name] = parts;
  if (!NUMBER_RE.test(number)) {
    throw new Malformed("the certificate number is not TOWNSHIP-YEAR-SEQUENCE");
  }
  if (!ID_RE.test(idNumber)) {
    throw new Malformed("the ID number is not 18 characters");
  }
  if (marital.length !== 2 || !ASCII_DIGITS.test(marital)) {
    throw new Malformed("the marital status is not a 2-digit code");
  }
  if (!(children.length >= 1 && children.length <= 2 && ASCII_DIGITS.test(children))) {
    throw new Malformed("the number of children is not a small number");
  }
  if (!KEY_RE.test(keyId)) {
    throw new Malformed("the key id is not valid");
  }
  const nameLength = codePoints(name);
  if (nameLength < 1 || nameLength > 50) {
    throw new Malformed("the name is empty or too long");
  }
  const fields = {
    number,
    issuing_region: Array.from(number).slice(0, 9).join(""),
    name,
    id_number: idNumber,
    birth_date: isoDate(birth, "birth date"),
    marital_status: marital,
    children_count: Number(children),
    issued_on: isoDate(issued, "issue date"),
    valid_until: isoDate(until, "valid-until date"),
    key_id: keyId,
  };
  // What payload.body_bytes would write for these fields (the number of children without
  // a leading zero): anything else is a second spelling of the same certificate.
  const canonical = [number, idNumber, birth, marital, String(fields.children_count), issued, until, keyId, name];
  if (!sameBytes(new TextEncoder().encode(canonical.join("|")), body)) {
    throw new Malformed("the body is not in canonical form");
  }
  return { algorithm, body, signature, fields };
}

/** payload.signed_message: the domain tag, then the body (LD2 names its algorithm). */
export function signedMessage(body, algorithm) {
  const domain = algorithm === ED25519 ? DOMAIN : `liudong certificate v2 ${algorithm}\n`;
  const head = new TextEncoder().encode(domain);
  const message = new Uint8Array(head.length + body.length);
  message.set(head);
  message.set(body, head.length);
  return message;
}

function base64Bytes(text) {
  try {
    const raw = atob(text);
    return Uint8Array.from(raw, (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}

function localToday() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function isoDay(today) {
  if (today instanceof Date) {
    const pad = (n) => String(n).padStart(2, "0");
    return `${today.getFullYear()}-${pad(today.getMonth() + 1)}-${pad(today.getDate())}`;
  }
  return today ? String(today) : localToday();
}

/** Check a scanned text offline against the cached keys ({key_id, algorithm, public_key:
 * base64 of the raw 32 bytes}). `today`: "YYYY-MM-DD" (or a Date; the phone's day when
 * omitted). Never throws (once ready() resolved).
 *
 * status: valid | expired (signature good, past valid_until) | invalid (the signature does
 * not match: altered or damaged) | unknown_key (a key id none of the cached keys has, or a
 * key of another algorithm: a QR of another node) | unsupported (an SM2 signature: the phone
 * cannot check it, the server will when online) | malformed (not a payload at all).
 * fields: the payload's contents when it could be read (for unknown_key and unsupported they
 * are unchecked: what the code claims), else null. */
export function verifyOffline(text, keys, today) {
  let parsed;
  try {
    parsed = parsePayload(text);
  } catch (error) {
    if (error instanceof Malformed) {
      return { status: "malformed", fields: null, detail: error.message };
    }
    throw error;
  }
  const { algorithm, body, signature, fields } = parsed;
  const base = { fields, algorithm, key_id: fields.key_id, detail: "" };
  // Like keys.public_key then the algorithm check in verification._check_signature: the key
  // decides how a signature is checked, never the text that carries it.
  const key = (keys || []).find((candidate) => candidate && candidate.key_id === fields.key_id);
  if (!key || key.algorithm !== algorithm) {
    return { ...base, status: "unknown_key" };
  }
  if (algorithm !== ED25519) {
    return { ...base, status: "unsupported" };
  }
  const publicKey = base64Bytes(key.public_key);
  let good = false;
  if (publicKey && publicKey.length === 32) {
    try {
      good = globalThis.nacl.sign.detached.verify(signedMessage(body, algorithm), signature, publicKey);
    } catch {
      good = false;
    }
  }
  if (!good) {
    return { status: "invalid", fields: null, algorithm, key_id: fields.key_id, detail: "" };
  }
  return { ...base, status: isoDay(today) > fields.valid_until ? "expired" : "valid" };
}
