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
  // Refresh a grant this long before it expires when a seek or play would start a new request.
  var EXPIRY_MARGIN_MS = 3000;
  // More than this many errors within ERROR_WINDOW_MS with fresh grants means the media itself is broken.
  var MAX_ERRORS = 3;
  var ERROR_WINDOW_MS = 30000;

  var grant = null;
  var refreshing = null;
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
    return !grant || Date.parse(grant.expiresAt) - EXPIRY_MARGIN_MS <= Date.now();
  }

  function fetchGrant() {
    return fetch(grantUrl, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (response.ok) return response.json();
        return response.json().catch(function () { return null; }).then(function (body) {
          var error = new Error(body && body.error && body.error.message
            ? body.error.message
            : 'The video could not be loaded. Reload the page to try again.');
          error.status = response.status;
          throw error;
        });
      }, function () {
        var error = new Error('The connection to the site was lost. Playback continues when it is back.');
        error.status = 0;
        throw error;
      });
  }

  function restore(at, resume) {
    var seekAndResume = function () {
      if (at > 0 && Math.abs(video.currentTime - at) > 0.5) video.currentTime = at;
      if (resume) {
        video.play().catch(function () { /* autoplay policy: the user presses play again */ });
      }
    };
    if (video.readyState >= 1) seekAndResume();
    else video.addEventListener('loadedmetadata', seekAndResume, { once: true });
  }

  // Fetches a new grant and swaps the source, keeping position and play state.
  function refresh(at, resume) {
    if (refused) return Promise.resolve();
    if (refreshing) return refreshing;
    refreshing = fetchGrant()
      .then(function (fresh) {
        grant = fresh;
        hideMessage();
        video.src = fresh.url;
        restore(at, resume);
      }, function (error) {
        if (error.status === 401 || error.status === 403 || error.status === 404) {
          refused = true;
          wantPlaying = false;
          video.pause();
          video.removeAttribute('src');
          video.load();
        }
        showMessage(error.message, error.status === 401);
      })
      .then(function () { refreshing = null; });
    return refreshing;
  }

  video.addEventListener('timeupdate', function () {
    if (!refreshing) position = video.currentTime;
  });

  video.addEventListener('seeking', function () {
    if (refreshing) return;
    position = video.currentTime;
    if (grantExpiresSoon()) refresh(position, wantPlaying || !video.paused);
  });

  video.addEventListener('play', function () {
    if (refreshing) return;
    wantPlaying = true;
    if (grantExpiresSoon()) refresh(video.currentTime, true);
  });

  video.addEventListener('pause', function () {
    // Swapping the source pauses the element; that is not the viewer's choice.
    if (!refreshing && !video.ended) wantPlaying = false;
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
    refresh(position, wantPlaying);
  });

  refresh(0, false);
})();
