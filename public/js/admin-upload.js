// Admin uploads: video files (streamed through the app, or straight to S3 with presigned URLs) and posters.
// Every request to the app carries the CSRF token in the x-csrf-token header.
'use strict';

(function () {
  const PARALLEL_PARTS = 4;
  const PART_URL_BATCH = 20;
  const CORS_MESSAGE =
    'The browser could not reach the storage bucket. Most likely the bucket has no CORS rule that allows uploads ' +
    'from this site (PUT from this origin, with the ETag header exposed). Ask the operator to run "reelgate s3 cors", ' +
    'then try again. If the network dropped instead, simply try again.';
  const ETAG_MESSAGE =
    'The storage bucket accepted a part but hid its ETag header from the browser, so the upload cannot be finished. ' +
    'The bucket CORS rule must expose ETag: ask the operator to run "reelgate s3 cors".';

  class UploadError extends Error {}

  /** Sends one request with progress events; resolves with the XHR whatever its status, rejects on a network failure. */
  function send(method, url, body, options) {
    const xhr = new XMLHttpRequest();
    const promise = new Promise((resolve, reject) => {
      xhr.open(method, url);
      for (const [name, value] of Object.entries(options.headers || {})) xhr.setRequestHeader(name, value);
      if (options.onProgress) xhr.upload.addEventListener('progress', (event) => options.onProgress(event.loaded));
      xhr.addEventListener('load', () => resolve(xhr));
      // A refused CORS preflight, a blocked request and a dropped connection all end here with status 0.
      xhr.addEventListener('error', () => reject(new TypeError('network error')));
      xhr.addEventListener('abort', () => reject(new UploadError('Upload cancelled.')));
      xhr.send(body);
    });
    return { xhr, promise };
  }

  async function callApp(method, url, csrf, payload) {
    const response = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: payload === undefined ? undefined : JSON.stringify(payload),
      credentials: 'same-origin',
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new UploadError(messageOf(data, response.status));
    return data;
  }

  function messageOf(data, status) {
    if (data && data.error && typeof data.error.message === 'string') return data.error.message;
    return 'The server refused the upload (HTTP ' + status + '). Reload the page and try again.';
  }

  function parseJson(text) {
    try {
      return JSON.parse(text);
    } catch {
      return {};
    }
  }

  function setupUploadForm(form) {
    const fileInput = form.querySelector('input[type="file"]');
    const titleInput = form.querySelector('input[name="title"]');
    const startButton = form.querySelector('.js-start');
    const abortButton = form.querySelector('.js-abort');
    const progress = form.querySelector('.js-progress');
    const status = form.querySelector('.js-status');
    const message = form.querySelector('.js-form-message');
    const csrf = form.dataset.csrf;
    const maxBytes = Number(form.dataset.maxBytes);
    let cancel = null;

    function showError(text) {
      message.textContent = text;
      message.hidden = false;
      status.textContent = '';
    }

    function showProgress(loaded, total) {
      progress.hidden = false;
      progress.value = total === 0 ? 100 : Math.min(100, (loaded / total) * 100);
      status.textContent = 'Uploaded ' + Math.floor(progress.value) + '% of ' + (total / 1024 / 1024).toFixed(1) + ' MB';
    }

    function setBusy(busy) {
      startButton.disabled = busy;
      fileInput.disabled = busy;
      abortButton.hidden = !busy;
    }

    abortButton.addEventListener('click', () => {
      if (cancel) cancel();
    });

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      message.hidden = true;
      const file = fileInput.files && fileInput.files[0];
      if (!file) return showError('Choose a video file first.');
      if (!file.type.startsWith('video/')) return showError('This file is not a video. Upload an MP4, MOV, WebM or Ogg video file.');
      if (file.size > maxBytes) return showError('The video is larger than the limit of ' + Math.floor(maxBytes / 1024 / 1024) + ' MB.');

      setBusy(true);
      try {
        const upload = form.dataset.mode === 'direct' ? uploadDirect : uploadThroughApp;
        const result = await upload(file, titleInput.value, csrf, showProgress, (abort) => (cancel = abort));
        status.textContent = 'Upload complete. Opening the video…';
        window.location.assign(result.location);
      } catch (error) {
        showError(error instanceof UploadError ? error.message : CORS_MESSAGE);
      } finally {
        cancel = null;
        setBusy(false);
      }
    });
  }

  /** Local storage: one multipart/form-data POST that the app streams into storage. */
  async function uploadThroughApp(file, title, csrf, onProgress, onCancel) {
    const body = new FormData();
    body.append('title', title);
    body.append('video', file);

    const request = send('POST', '/api/admin/uploads/stream', body, {
      headers: { 'x-csrf-token': csrf },
      onProgress: (loaded) => onProgress(Math.min(loaded, file.size), file.size),
    });
    onCancel(() => request.xhr.abort());

    let xhr;
    try {
      xhr = await request.promise;
    } catch (error) {
      if (error instanceof UploadError) throw error;
      throw new UploadError('The connection to the server dropped during the upload. Try again.');
    }
    const data = parseJson(xhr.responseText);
    if (xhr.status !== 201) throw new UploadError(messageOf(data, xhr.status));
    return data;
  }

  /** S3: the browser PUTs the bytes to presigned URLs, and the app only plans and completes the upload. */
  async function uploadDirect(file, title, csrf, onProgress, onCancel) {
    const plan = await callApp('POST', '/api/admin/uploads', csrf, {
      title,
      fileName: file.name,
      size: file.size,
      contentType: file.type,
    });
    const requests = new Set();
    let cancelled = false;
    onCancel(() => {
      cancelled = true;
      for (const request of requests) request.xhr.abort();
    });

    try {
      const parts = plan.mode === 'single'
        ? await putSingle(file, plan, requests, onProgress)
        : await putParts(file, plan, csrf, requests, onProgress, () => cancelled);
      if (cancelled) throw new UploadError('Upload cancelled.');
      return await callApp('POST', '/api/admin/uploads/' + plan.uploadId + '/complete', csrf, { parts });
    } catch (error) {
      // The app aborts the multipart upload (or deletes a finished single PUT), so no parts stay behind.
      await callApp('DELETE', '/api/admin/uploads/' + plan.uploadId, csrf).catch(() => undefined);
      throw error;
    }
  }

  async function putSingle(file, plan, requests, onProgress) {
    const request = send('PUT', plan.url, file, {
      headers: { 'content-type': plan.contentType },
      onProgress: (loaded) => onProgress(loaded, file.size),
    });
    requests.add(request);
    const xhr = await request.promise;
    if (xhr.status !== 200) throw new UploadError('Storage rejected the upload (HTTP ' + xhr.status + '). Try again.');
    return [];
  }

  async function putParts(file, plan, csrf, requests, onProgress, isCancelled) {
    const loadedByPart = new Map();
    const parts = [];
    const urls = new Map();
    let nextPart = 1;

    function report() {
      let loaded = 0;
      for (const value of loadedByPart.values()) loaded += value;
      onProgress(loaded, file.size);
    }

    async function urlFor(partNumber) {
      if (!urls.has(partNumber)) {
        const batch = [];
        for (let number = partNumber; number < partNumber + PART_URL_BATCH && number <= plan.partCount; number += 1) batch.push(number);
        const data = await callApp('POST', '/api/admin/uploads/' + plan.uploadId + '/part-urls', csrf, { partNumbers: batch });
        for (const [number, url] of Object.entries(data.urls)) urls.set(Number(number), url);
      }
      const url = urls.get(partNumber);
      urls.delete(partNumber);
      return url;
    }

    async function worker() {
      while (nextPart <= plan.partCount && !isCancelled()) {
        const partNumber = nextPart;
        nextPart += 1;
        const start = (partNumber - 1) * plan.partSize;
        const blob = file.slice(start, Math.min(start + plan.partSize, file.size));

        const request = send('PUT', await urlFor(partNumber), blob, {
          onProgress: (loaded) => {
            loadedByPart.set(partNumber, loaded);
            report();
          },
        });
        requests.add(request);
        const xhr = await request.promise;
        requests.delete(request);
        if (xhr.status !== 200) throw new UploadError('Storage rejected part ' + partNumber + ' (HTTP ' + xhr.status + '). Try again.');

        const etag = xhr.getResponseHeader('ETag');
        if (!etag) throw new UploadError(ETAG_MESSAGE);
        loadedByPart.set(partNumber, blob.size);
        report();
        parts.push({ partNumber, etag });
      }
    }

    // URLs for the first batch are fetched once, before the workers race for them.
    await urlFor(1).then((url) => urls.set(1, url));
    await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, plan.partCount) }, worker));
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  function setupPosterForm(form) {
    const message = form.querySelector('.js-form-message');
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      message.hidden = true;
      const button = form.querySelector('button');
      button.disabled = true;
      try {
        const response = await fetch(form.action, {
          method: 'POST',
          headers: { 'x-csrf-token': form.dataset.csrf },
          body: new FormData(form),
          credentials: 'same-origin',
        });
        // Success is a redirect to the edit page, which fetch follows.
        if (response.ok && response.redirected) return window.location.assign(response.url);
        message.textContent = messageOf(await response.json().catch(() => ({})), response.status);
      } catch {
        message.textContent = 'The connection to the server dropped during the upload. Try again.';
      } finally {
        button.disabled = false;
      }
      message.hidden = false;
    });
  }

  for (const form of document.querySelectorAll('.js-upload-form')) setupUploadForm(form);
  for (const form of document.querySelectorAll('.js-poster-form')) setupPosterForm(form);
})();
