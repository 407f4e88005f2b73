// Player for reelgate's watch page. It asks the app for a short-lived grant, plays from it, and when the
// grant has expired or a request fails (a seek after the TTL, a tab paused for a long time) it asks for a new
// one and continues at the same position and play state. When the app refuses a new grant it stops and shows
// why. Once the app has HLS renditions of the video, the grant also names a master playlist, which plays
// through hls.js (served by the app from node_modules) or the browser's own HLS, with the MP4 as fallback.
// No inline script (the CSP forbids it).
(function () {
  'use strict';

  var video = document.getElementById('player');
  var message = document.getElementById('player-message');
  if (!video || !message) return;

  var grantUrl = video.getAttribute('data-grant-url');
  var qualityMenu = document.getElementById('player-quality');
  // The paragraph around the menu, shown only while hls.js plays.
  var qualityBox = qualityMenu && qualityMenu.parentNode.parentNode;
  var Hls = window.Hls;
  // Safari plays HLS natively and best. Chromium 156 also returns "maybe" for HLS, but hls.js gives every
  // other browser the same tested path and the quality menu, so native HLS is kept for WebKit browsers and
  // for browsers without Media Source Extensions.
  var nativeHls = video.canPlayType('application/vnd.apple.mpegurl') !== '';
  var hlsJsSupported = !!(Hls && Hls.isSupported());
  var useHlsJs = hlsJsSupported && !(nativeHls && !/Chrome|Chromium|Edg\//.test(navigator.userAgent));
  // Refresh a grant this long before it expires when a seek or play would start a new request. Grants shorter
  // than twice this use half their lifetime instead, so a grant counts as expiring only in its second half.
  var EXPIRY_MARGIN_MS = 3000;
  // More than this many errors within ERROR_WINDOW_MS with fresh grants means the media itself is broken.
  var MAX_ERRORS = 3;
  var ERROR_WINDOW_MS = 30000;

  // Expiry of the current grant on this browser's clock (Date.now()), 0 before the first grant.
  var grantExpiresAt = 0;
  var grantLifetimeMs = 0;
  var refreshing = null;
  // True from a source swap until its metadata arrives. Meanwhile the element reads 0 s, not the position.
  var swapping = false;
  var refused = false;
  var wantPlaying = false;
  var position = 0;
  var recentErrors = [];
  // The hls.js instance playing now, or null. Each new grant gets a new instance that starts at the position.
  var hls = null;
  // Set when HLS failed for a reason a new grant cannot fix (a CORS or decoding problem): MP4 from then on.
  var hlsFailed = false;
  // The quality menu's choice: an hls.js level index, or -1 for automatic switching.
  var chosenLevel = -1;
  var mediaRecoveryTried = false;
  var currentGrant = null;

  function showMessage(text, withLoginLink) {
    message.textContent = text + ' ';
    if (withLoginLink) {
      var link = document.createElement('a');
      link.href = '/login?next=' + encodeURIComponent(location.pathname);
      link.textContent = 'Log in';
      message.appendChild(link);
    }
    message.hidden = false;
  }

  function hideMessage() {
    message.hidden = true;
    message.textContent = '';
  }

  function grantExpiresSoon() {
    return grantExpiresAt - Math.min(EXPIRY_MARGIN_MS, grantLifetimeMs / 2) <= Date.now();
  }

  // expiresAt is on the server's clock. Its distance from the response's Date header is the lifetime, which
  // converts the expiry to this browser's clock, so a viewer whose clock runs fast does not refresh forever.
  function acceptGrant(fresh, serverDate) {
    var expiresAt = Date.parse(fresh.expiresAt);
    var issuedAt = Date.parse(serverDate);
    grantLifetimeMs = isNaN(issuedAt) ? expiresAt - Date.now() : expiresAt - issuedAt;
    grantExpiresAt = Date.now() + grantLifetimeMs;
  }

  function fetchGrant() {
    return fetch(grantUrl, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (response.ok) {
          return response.json().then(function (fresh) {
            return { grant: fresh, serverDate: response.headers.get('Date') };
          });
        }
        return response.json().catch(function () { return null; }).then(function (body) {
          var error = new Error(body && body.error && body.error.message
            ? body.error.message
            : 'The video could not be loaded. Reload the page to try again.');
          error.status = response.status;
          throw error;
        });
      }, function () {
        // NOTE: no timer retries this. The next grant request comes with a media error, a play after one, or
        // a play or seek near the grant's expiry.
        var error = new Error('The connection to the site was lost. Playback continues when it is back.');
        error.status = 0;
        throw error;
      });
  }

  // Position and play state are read when the metadata arrives, not when the refresh started, so a seek,
  // play or pause during the grant request still counts.
  function restore() {
    swapping = false;
    if (position > 0 && Math.abs(video.currentTime - position) > 0.5) video.currentTime = position;
    if (wantPlaying) {
      video.play().catch(function () { /* autoplay policy: the user presses play again */ });
    }
  }

  function destroyHls() {
    if (!hls) return;
    hls.destroy();
    hls = null;
    if (qualityBox) qualityBox.hidden = true;
  }

  function swapSource(url) {
    destroyHls();
    swapping = true;
    video.src = url;
    video.addEventListener('loadedmetadata', restore, { once: true });
  }

  // startPosition makes hls.js load the segments at the position first, instead of from 0 s.
  function swapToHlsJs(masterUrl) {
    destroyHls();
    swapping = true;
    mediaRecoveryTried = false;
    // No worker: hls.js would start it from a blob: URL, which the CSP (worker-src 'self') blocks.
    hls = new Hls({ startPosition: position > 0 ? position : -1, enableWorker: false });
    hls.on(Hls.Events.MANIFEST_PARSED, fillQualityMenu);
    hls.on(Hls.Events.ERROR, onHlsError);
    video.addEventListener('loadedmetadata', restore, { once: true });
    hls.loadSource(masterUrl);
    hls.attachMedia(video);
  }

  function playGrant(grant) {
    currentGrant = grant;
    if (!grant.hls || hlsFailed) return swapSource(grant.url);
    if (useHlsJs) return swapToHlsJs(grant.hls.url);
    if (nativeHls) return swapSource(grant.hls.url);
    swapSource(grant.url);
  }

  // An expired grant shows up as 403 on a segment or playlist: a new grant gives fresh URLs. Other fatal
  // errors fall back to the MP4 once hls.js has used up its own retries.
  function onHlsError(_event, data) {
    if (refused) return;
    if (data.response && data.response.code === 403) {
      retryAfterError();
      return;
    }
    if (isBlockedStorageRequest(data)) {
      fallBackToMp4();
      return;
    }
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !mediaRecoveryTried) {
      mediaRecoveryTried = true;
      hls.recoverMediaError();
      return;
    }
    fallBackToMp4();
  }

  // A segment on another origin (a presigned S3 URL) that fails with status 0 is almost always a bucket
  // without a CORS rule for this site, which retries cannot fix, while the MP4 plays without CORS. A network
  // outage looks the same and also ends HLS for this page, which costs quality switching but not playback.
  function isBlockedStorageRequest(data) {
    if (data.details !== Hls.ErrorDetails.FRAG_LOAD_ERROR || !data.frag) return false;
    var status = data.response ? data.response.code : 0;
    return status === 0 && new URL(data.frag.url, location.href).origin !== location.origin;
  }

  function fallBackToMp4() {
    hlsFailed = true;
    if (currentGrant) swapSource(currentGrant.url);
  }

  function fillQualityMenu() {
    if (!qualityMenu || !hls) return;
    while (qualityMenu.firstChild) qualityMenu.removeChild(qualityMenu.firstChild);
    qualityMenu.appendChild(new Option('Auto', '-1'));
    hls.levels.forEach(function (level, index) {
      qualityMenu.appendChild(new Option(level.height ? level.height + 'p' : 'Level ' + (index + 1), String(index)));
    });
    if (chosenLevel >= hls.levels.length) chosenLevel = -1;
    qualityMenu.value = String(chosenLevel);
    if (chosenLevel !== -1) hls.loadLevel = chosenLevel;
    qualityBox.hidden = false;
  }

  if (qualityMenu) {
    qualityMenu.addEventListener('change', function () {
      chosenLevel = Number(qualityMenu.value);
      // currentLevel switches at once and drops the buffered segments of the old level.
      if (hls) hls.currentLevel = chosenLevel;
    });
  }

  function stop(error) {
    if (error.status === 401 || error.status === 403 || error.status === 404) {
      refused = true;
      wantPlaying = false;
      swapping = false;
      video.removeEventListener('loadedmetadata', restore);
      destroyHls();
      video.pause();
      video.removeAttribute('src');
      video.load();
    }
    showMessage(error.message, error.status === 401);
  }

  // Fetches a new grant and swaps the source. restore() then brings back position and play state.
  function refresh() {
    if (refused) return Promise.resolve();
    if (refreshing) return refreshing;
    refreshing = fetchGrant()
      .then(function (result) {
        acceptGrant(result.grant, result.serverDate);
        hideMessage();
        playGrant(result.grant);
      }, stop)
      .then(function () { refreshing = null; });
    return refreshing;
  }

  video.addEventListener('timeupdate', function () {
    if (!swapping) position = video.currentTime;
  });

  // The element cannot seek before its metadata arrives, so every seeking event is the viewer's or restore's.
  video.addEventListener('seeking', function () {
    position = video.currentTime;
    if (!swapping && grantExpiresSoon()) refresh();
  });

  // A play after a media error retries even with an unexpired grant, because the element cannot recover alone.
  video.addEventListener('play', function () {
    wantPlaying = true;
    if (video.error || (!swapping && grantExpiresSoon())) refresh();
  });

  // A source swap sets paused without firing pause (the HTML load algorithm), so a pause event is never a swap.
  video.addEventListener('pause', function () {
    if (!video.ended) wantPlaying = false;
  });

  // Fetches a new grant unless errors keep coming with fresh grants, which means the media itself is broken.
  // The requests that fail together on one expired grant count once, because they share the refresh. An error
  // while the grant expires soon does not count, because with short grants expiry alone causes one every few
  // seconds of HLS playback. The check uses the expiry margin because the Date header's whole seconds can put
  // grantExpiresAt up to a second after the server's expiry.
  function retryAfterError() {
    if (refreshing) return;
    if (!grantExpiresSoon() && tooManyRecentErrors()) {
      showMessage('This video could not be played. Reload the page to try again.', false);
      return;
    }
    refresh();
  }

  // Records an error now and returns true when more than MAX_ERRORS fell within ERROR_WINDOW_MS.
  function tooManyRecentErrors() {
    var now = Date.now();
    recentErrors = recentErrors.filter(function (at) { return now - at < ERROR_WINDOW_MS; });
    recentErrors.push(now);
    return recentErrors.length > MAX_ERRORS;
  }

  video.addEventListener('error', function () {
    if (refused || !video.getAttribute('src')) return;
    retryAfterError();
  });

  refresh();
})();
