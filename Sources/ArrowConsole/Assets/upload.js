// Image uploads from the browser: the API's resumable multipart session, with each part sent straight to its
// presigned URL (the storage, not this server, when the images live in S3/B2). The session id is kept in
// localStorage under the file's name, size and date, so choosing the same file again after a reload or a lost
// connection sends only the parts the server does not have yet.
import { api } from './app.js';

const storageKey = (file) => `arrow-upload:${file.name}:${file.size}:${file.lastModified}`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The upload id a previous attempt at this file left, if any. */
export function pendingUpload(file) {
  return localStorage.getItem(storageKey(file));
}

/**
 * Uploads `file` as an image with `fields` (name, description, …). `onProgress({sent, total, rate, remaining, state})`
 * is called as bytes go out. Resolves with the image; rejects with the API's error (an inspector refusal carries its
 * violations).
 */
export async function uploadImage(file, fields, onProgress, signal) {
  const key = storageKey(file);
  let session = null;
  const previous = localStorage.getItem(key);
  if (previous) {
    try {
      const status = await api('GET', `/api/vm_images/upload/${encodeURIComponent(previous)}`);
      if (['open', 'assembled', 'completing'].includes(status.status)) session = status;
    } catch (error) {
      if (error.status !== 404) throw error;
    }
    if (!session) localStorage.removeItem(key);
  }
  if (!session) {
    session = await api('POST', '/api/vm_images/upload/sign', { file_name: file.name, file_size: file.size, ...fields });
    localStorage.setItem(key, session.upload_id);
  }
  const meter = new Meter(file.size, onProgress);
  const done = new Map(session.uploaded_parts.map((part) => [part.part_number, part.size]));
  meter.confirmed = [...done.values()].reduce((sum, size) => sum + size, 0);
  meter.report('uploading');
  for (let round = 0; round < 5; round += 1) {
    if (done.size < session.part_count) {
      const signed = await api('POST', '/api/vm_images/upload/sign', { upload_id: session.upload_id });
      await sendParts(file, signed, done, meter, signal);
    }
    meter.report('checking');
    try {
      const image = await api('POST', '/api/vm_images/upload/complete', { upload_id: session.upload_id });
      localStorage.removeItem(key);
      meter.report('done');
      return image;
    } catch (error) {
      // The server is missing parts (one was lost on the way): send those and complete again.
      if (error.code !== 'parts_missing') {
        if (error.status !== 409 || error.code === 'upload_rejected') localStorage.removeItem(key);
        throw error;
      }
      const status = await api('GET', `/api/vm_images/upload/${encodeURIComponent(session.upload_id)}`);
      done.clear();
      for (const part of status.uploaded_parts) done.set(part.part_number, part.size);
      meter.confirmed = [...done.values()].reduce((sum, size) => sum + size, 0);
    }
  }
  throw new Error('The upload did not complete after several attempts');
}

async function sendParts(file, signed, done, meter, signal) {
  const queue = signed.parts.filter((part) => !done.has(part.part_number));
  const workers = Array.from({ length: Math.max(1, Math.min(signed.parallel_parts || 3, 4)) }, async () => {
    while (queue.length) {
      const part = queue.shift();
      const start = (part.part_number - 1) * signed.part_size;
      const blob = file.slice(start, start + part.size);
      await sendWithRetries(part, blob, meter, signal);
      done.set(part.part_number, part.size);
      meter.confirmed += part.size;
      meter.inFlight.delete(part.part_number);
      meter.report('uploading');
    }
  });
  await Promise.all(workers);
}

async function sendWithRetries(part, blob, meter, signal) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await put(part, blob, (loaded) => { meter.inFlight.set(part.part_number, loaded); meter.report('uploading'); }, signal);
      return;
    } catch (error) {
      meter.inFlight.delete(part.part_number);
      if (signal && signal.aborted) throw error;
      if (attempt >= 7 || (error.status && error.status < 500 && error.status !== 408 && error.status !== 429)) throw error;
      // A lost connection: wait for the browser to be back online, then back off and try the same part again.
      meter.report('waiting');
      if (!navigator.onLine) await new Promise((resolve) => window.addEventListener('online', resolve, { once: true }));
      await sleep(Math.min(30000, 500 * 2 ** attempt));
    }
  }
}

/** One part, by XMLHttpRequest: fetch cannot report upload progress. */
function put(part, blob, onLoaded, signal) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(part.method || 'PUT', part.url);
    for (const [name, value] of Object.entries(part.headers || {})) {
      // The browser sets these itself and refuses to be told.
      if (!['host', 'content-length'].includes(name.toLowerCase())) request.setRequestHeader(name, value);
    }
    request.upload.onprogress = (event) => onLoaded(event.loaded);
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) resolve();
      else reject(Object.assign(new Error(`part ${part.part_number}: HTTP ${request.status}`), { status: request.status }));
    };
    request.onerror = () => reject(new Error(`part ${part.part_number}: connection lost`));
    request.ontimeout = request.onerror;
    if (signal) signal.addEventListener('abort', () => request.abort(), { once: true });
    request.onabort = () => reject(new Error('Upload stopped'));
    request.send(blob);
  });
}

/** Bytes sent so far, the rate over the last seconds, and the time left. */
class Meter {
  constructor(total, onProgress) {
    this.total = total;
    this.onProgress = onProgress;
    this.confirmed = 0;
    this.inFlight = new Map();
    this.samples = [];
  }

  report(state) {
    const sent = Math.min(this.total, this.confirmed + [...this.inFlight.values()].reduce((a, b) => a + b, 0));
    const now = performance.now();
    this.samples.push([now, sent]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
    const [t0, s0] = this.samples[0];
    const rate = now > t0 ? ((sent - s0) * 1000) / (now - t0) : 0;
    const remaining = rate > 0 ? (this.total - sent) / rate : null;
    this.onProgress({ sent: state === 'done' ? this.total : sent, total: this.total, rate, remaining, state });
  }
}
