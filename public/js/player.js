// Player for reelgate's watch page. It asks the app for a short-lived grant, plays from it, and when the
// grant has expired or a request fails (a seek after the TTL, a tab paused for a long time) it asks for a new
// one and continues at the same position and play state. When the app refuses a new grant it stops and shows
// why. No third-party code, no inline script (the CSP forbids it).
(function () {
  'use strict';

  var video = document.getElementById('player');
  var message = document.getElementById('player-message');
  if (!video || !message) return;

  var grantUrl = video.getAttribute('data-grant-url');
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

  function swapSource(url) {
    swapping = true;
    video.src = url;
    video.addEventListener('loadedmetadata', restore, { once: true });
  }

  function stop(error) {
    if (error.status === 401 || error.status === 403 || error.status === 404) {
      refused = true;
      wantPlaying = false;
      swapping = false;
      video.removeEventListener('loadedmetadata', restore);
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
        swapSource(result.grant.url);
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

  video.addEventListener('error', function () {
    if (refused || !video.getAttribute('src')) return;
    var now = Date.now();
    recentErrors = recentErrors.filter(function (at) { return now - at < ERROR_WINDOW_MS; });
    recentErrors.push(now);
    if (recentErrors.length > MAX_ERRORS) {
      showMessage('This video could not be played. Reload the page to try again.', false);
      return;
    }
    refresh();
  });

  refresh();
})();
