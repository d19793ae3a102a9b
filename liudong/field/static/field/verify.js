// The field app's certificate check (markup: templates/field/_verify.html). The collector
// scans the QR code with the camera, takes or chooses a photo of it, pastes the code or types
// the certificate number; the phone checks the signature offline against the node keys of its
// bundle and shows her name and masked ID number; "record" queues a `verification` action
// that the server checks again when the phone syncs.
//
// Her full ID number never leaves the payload: the page shows it masked, and nothing here
// writes it (or the payload) to the address bar or the console.

import { decodeImageData, fromScanned, ready, verifyOffline } from "./qr.js";

const NUMBER_RE = /^[0-9]{9}-[0-9]{4}-[0-9]{6,}$/;
// Frames scanned per second at most, and the width they are scaled to (jsQR is quicker on a
// smaller picture, and a QR code filling part of a 640 px frame still decodes).
const SCAN_INTERVAL_MS = 150;
const FRAME_WIDTH = 640;
// Photos: tried at these widths (a 12 MP photo is slow and noisy for jsQR; a small one may
// lose the modules of a distant code).
const PHOTO_WIDTHS = [1024, 640, 1600];
// Only what the server may accept is offered for recording: a bad, expired or unreadable code
// would only come back refused.
const SAVABLE = new Set(["valid", "unknown_key", "unsupported"]);
// How each answer looks (the words say it too: the colour is not the only sign).
const OK = { mark: "✓", color: "#1b5e20" };
const LATER = { mark: "?", color: "#8a5300" };
const BAD = { mark: "✗", color: "#b71c1c" };
const TONES = {
  valid: OK,
  number: LATER,
  unknown_key: LATER,
  unsupported: LATER,
  unknown: LATER,
  expired: BAD,
  invalid: BAD,
  malformed: BAD,
  number_bad: BAD,
};

/** The number as lists show it: people.idnumbers.mask (first 6, 8 stars, last 4). */
export function maskId(value) {
  const text = String(value || "");
  if (text.length < 10) {
    return "*".repeat(text.length);
  }
  return `${text.slice(0, 6)}********${text.slice(-4)}`;
}

function fill(template, values) {
  return String(template || "").replace(/%\((\w+)\)s/g, (whole, key) => (key in values ? values[key] : whole));
}

function todayIso() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function frameData(source, width, height, maxWidth) {
  const scale = Math.min(1, maxWidth / width);
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  return context.getImageData(0, 0, canvas.width, canvas.height);
}

/** The QR text in a photo (a File or Blob), or null. */
export async function decodePhoto(file) {
  await ready();
  const bitmap = await createImageBitmap(file);
  try {
    for (const width of PHOTO_WIDTHS) {
      const text = decodeImageData(frameData(bitmap, bitmap.width, bitmap.height, width));
      if (text) {
        return text;
      }
      if (bitmap.width <= width) {
        break; // larger tries would be the same picture
      }
    }
    return null;
  } finally {
    bitmap.close();
  }
}

export function mountVerify(root, ctx) {
  const strings = ctx.strings || {};
  const $ = (selector) => root.querySelector(selector);
  const scanButton = $("[data-verify-scan]");
  const photoInput = $("[data-testid=verify-photo]");
  const cameraBox = $("[data-verify-camera]");
  const video = $("[data-verify-video]");
  const hint = $("[data-verify-camera-hint]");
  const stopButton = $("[data-verify-stop]");
  const codeForm = $("[data-verify-code-form]");
  const codeBox = $("[data-testid=verify-code]");
  const numberForm = $("[data-verify-number-form]");
  const numberBox = $("[data-testid=verify-number]");
  const result = $("[data-testid=verify-result]");
  const message = $("[data-verify-message]");
  const fieldsList = $("[data-verify-fields]");
  const personSelect = $("[data-verify-person]");
  const saveButton = $("[data-testid=verify-save]");

  // What "record" would queue: {method, payload, number, offline_result}.
  let pending = null;
  let stream = null;
  let timer = null;

  function stopCamera() {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    if (stream) {
      for (const track of stream.getTracks()) {
        track.stop();
      }
      stream = null;
    }
    video.srcObject = null;
    cameraBox.hidden = true;
    scanButton.disabled = false;
  }

  async function fillPeople(match) {
    let people = [];
    try {
      people = (await ctx.people()) || [];
    } catch {
      people = [];
    }
    personSelect.replaceChildren(new Option(strings.verify_no_person || "-", ""));
    for (const person of people) {
      personSelect.add(new Option(`${person.name} ${person.masked_id || ""}`.trim(), String(person.id)));
    }
    const found = match ? people.find(match) : null;
    personSelect.value = found ? String(found.id) : "";
  }

  function addField(label, value) {
    const row = document.createElement("tr");
    const term = document.createElement("th");
    term.scope = "row";
    term.textContent = label;
    const detail = document.createElement("td");
    detail.textContent = value;
    row.append(term, detail);
    fieldsList.append(row);
  }

  function show(status, text, savable) {
    result.hidden = false;
    result.dataset.status = status;
    const tone = TONES[status] || TONES.unknown;
    message.textContent = `${tone.mark} ${text}`;
    message.style.color = tone.color;
    message.style.fontWeight = "bold";
    saveButton.hidden = !savable;
    saveButton.disabled = !savable;
    personSelect.closest("label").hidden = !savable;
    result.scrollIntoView({ block: "nearest" });
  }

  async function showPayload(scanned) {
    let keys = [];
    try {
      keys = (await ctx.keys()) || [];
      await ready();
    } catch (error) {
      // No keys (storage unreadable) or no decoder (never cached): say so, never hang.
      ctx.notify(fill(strings.verify_not_checked, { error: (error && (error.message || error.name)) || "?" }), "error");
      return;
    }
    const outcome = verifyOffline(scanned, keys, todayIso());
    const text = {
      valid: strings.verify_valid,
      expired: fill(strings.verify_expired, { date: outcome.fields ? outcome.fields.valid_until : "" }),
      invalid: strings.verify_invalid,
      unknown_key: strings.verify_unknown_key,
      unsupported: strings.verify_unsupported,
      malformed: strings.verify_malformed,
    }[outcome.status];
    fieldsList.replaceChildren();
    const fields = outcome.fields;
    if (fields) {
      const unchecked = outcome.status === "valid" || outcome.status === "expired" ? "" : ` ${strings.verify_unchecked || ""}`;
      addField(strings.verify_name_label, fields.name + unchecked);
      addField(strings.verify_id_label, maskId(fields.id_number));
      addField(strings.verify_number_label, fields.number);
      addField(strings.verify_until_label, fields.valid_until);
    }
    const savable = SAVABLE.has(outcome.status);
    pending = savable
      ? { method: "qr", payload: fromScanned(scanned), number: "", offline_result: outcome.status }
      : null;
    // Her file in the grid: the same name and the same masked number (the bundle holds no
    // full ID numbers); the collector may choose another.
    const masked = fields ? maskId(fields.id_number) : null;
    await fillPeople(fields ? (person) => person.name === fields.name && person.masked_id === masked : null);
    show(outcome.status, text, savable);
  }

  async function showNumber(number) {
    fieldsList.replaceChildren();
    if (!NUMBER_RE.test(number)) {
      pending = null;
      show("number_bad", strings.verify_number_bad, false);
      return;
    }
    pending = { method: "number", payload: "", number, offline_result: "" };
    await fillPeople(null);
    show("number", fill(strings.verify_number_ready, { number }), true);
  }

  async function scanFrame() {
    timer = null;
    if (!stream) {
      return;
    }
    // The section was closed (hidden by the shell) or the page left: the camera goes off.
    if (!root.isConnected || root.offsetParent === null || document.hidden) {
      stopCamera();
      return;
    }
    if (video.readyState >= video.HAVE_CURRENT_DATA && video.videoWidth) {
      const text = decodeImageData(frameData(video, video.videoWidth, video.videoHeight, FRAME_WIDTH));
      if (text) {
        stopCamera();
        await showPayload(text);
        return;
      }
    }
    timer = setTimeout(scanFrame, SCAN_INTERVAL_MS);
  }

  async function startCamera() {
    if (stream) {
      return;
    }
    scanButton.disabled = true;
    try {
      await ready();
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        throw new Error("no camera");
      }
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: "environment" } },
        audio: false,
      });
    } catch {
      stopCamera();
      ctx.notify(strings.verify_camera_refused, "error");
      return;
    }
    result.hidden = true;
    cameraBox.hidden = false;
    hint.textContent = strings.verify_camera_looking || "";
    video.srcObject = stream;
    try {
      await video.play();
    } catch {
      // autoplay of a muted inline video is allowed; a refusal still leaves frames to read
    }
    timer = setTimeout(scanFrame, SCAN_INTERVAL_MS);
  }

  scanButton.addEventListener("click", startCamera);
  stopButton.addEventListener("click", stopCamera);
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      stopCamera();
    }
  });
  window.addEventListener("pagehide", stopCamera);

  photoInput.addEventListener("change", async () => {
    const file = photoInput.files && photoInput.files[0];
    photoInput.value = ""; // the same photo may be chosen again
    if (!file) {
      return;
    }
    stopCamera();
    let text = null;
    try {
      text = await decodePhoto(file);
    } catch {
      text = null;
    }
    if (text) {
      await showPayload(text);
    } else {
      ctx.notify(strings.verify_not_found, "error");
    }
  });

  codeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    stopCamera();
    await showPayload(codeBox.value);
  });

  numberForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    stopCamera();
    await showNumber(numberBox.value.trim());
  });

  saveButton.addEventListener("click", async () => {
    if (!pending) {
      return;
    }
    const data = { person: personSelect.value ? Number(personSelect.value) : null, ...pending };
    saveButton.disabled = true;
    try {
      await ctx.enqueue("verification", data);
    } catch (error) {
      saveButton.disabled = false;
      const full = error && (error.name === "QuotaExceededError" || /quota/i.test(String(error.message)));
      const reason = (error && (error.message || error.name)) || "?";
      ctx.notify(full ? strings.verify_storage_full : fill(strings.verify_not_saved, { error: reason }), "error");
      return;
    }
    pending = null;
    codeBox.value = "";
    numberBox.value = "";
    result.hidden = true;
    ctx.notify(strings.verify_saved, "info");
  });

  return { stop: stopCamera };
}
